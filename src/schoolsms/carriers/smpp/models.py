"""The SMPP gateway keeps no tables: its state is the bind (held in memory by the worker) and
the message rows messaging owns; receipts the SMSC sent are acknowledged only once applied."""
