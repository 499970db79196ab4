"""Carriers keep their state on the sender (gateway options) and on message rows."""
