"""Reminder runs and the emails they sent."""
