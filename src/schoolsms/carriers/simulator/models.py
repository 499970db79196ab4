"""The carrier simulator keeps the messages it has accepted, as a real carrier would."""
