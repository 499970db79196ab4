"""What `schoolsms worker` runs for SMPP: it holds a bind for every SMPP sender (receipts and
inbound texts are read and applied on the binds' own threads) and unbinds when it stops."""

from __future__ import annotations

from schoolsms.messaging.gateway import ConnectionKeeper

from .binds import binds_busy, binds_close, binds_keep

KEEPER = ConnectionKeeper(keep=binds_keep, close=binds_close, busy=binds_busy)
