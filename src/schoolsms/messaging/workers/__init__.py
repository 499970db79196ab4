"""The worker loops that run the pipeline's tasks: one per task backend (database, RQ), each
doing the same duties between tasks (heartbeat, periodic duties, the sweep for lost work)."""
