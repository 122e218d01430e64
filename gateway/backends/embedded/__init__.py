"""The embedded backend: the gateway's own SQL store (SQLite or PostgreSQL).

Wiring::

    store = open_store("sqlite:var/gateway.sqlite", reactor)
    backend = EmbeddedBackend(store, hosts=["example.org"], clock=reactor)
    outbox = StoreOutbox(store)  # the component link's durable queue
    ...
    store.close()
"""

from gateway.backends.embedded.backend import EmbeddedBackend
from gateway.backends.embedded.outbox import StoreOutbox
from gateway.backends.embedded.startup import open_store
from gateway.backends.embedded.store import Store

__all__ = ["EmbeddedBackend", "Store", "StoreOutbox", "open_store"]
