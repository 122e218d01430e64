"""The embedded backend: the gateway's own SQL store (SQLite or PostgreSQL).

Wiring::

    store = await open_store("sqlite:var/gateway.sqlite", reactor)
    backend = EmbeddedBackend(store, hosts=["example.org"], clock=reactor)
    ...
    store.close()
"""

from gateway.backends.embedded.backend import EmbeddedBackend
from gateway.backends.embedded.store import Store, open_store

__all__ = ["EmbeddedBackend", "Store", "open_store"]
