"""Twilio (or any Twilio-compatible API): sending, signed webhooks and reconciliation."""
