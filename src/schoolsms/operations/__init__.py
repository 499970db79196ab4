"""What the operators of a deployment watch: worker heartbeats and the workers' periodic duties."""
