"""SchoolSMS: SMS broadcasts, consent registry and delivery reports for schools."""

__version__ = "0.1.0"
