"""The Socket.IO edge: who is connected and as whom (``connections``), and the guard that
answers every handler's failure in the one error shape (``guard``).

Above ``drafting.auth`` (a connection is authenticated by its session or token) and
``drafting.realtime`` (the outbox and the wire protocol, which every capability uses and
which knows nothing of who is connected)."""
from __future__ import annotations
