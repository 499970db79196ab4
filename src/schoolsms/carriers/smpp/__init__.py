"""The SMPP 3.4 gateway: a transceiver bind per sender to an SMSC, held by the worker."""
