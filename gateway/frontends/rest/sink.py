"""What mod_rest needs from the XMPP component link."""

from __future__ import annotations

from typing import Protocol

from twisted.internet.defer import Deferred

from gateway.stanza import Stanza

__all__ = ["StanzaSink"]


class StanzaSink(Protocol):
    """Where accepted stanzas go: the component link's durable queue.

    The stanza handed over is checked already (:mod:`gateway.stanza`): a
    ``<message/>``, ``<iq/>`` or ``<presence/>`` with no namespace or one of
    ``jabber:client``, ``jabber:server``, ``jabber:component:accept``, valid
    JIDs, no comments, processing instructions or DTD.  The sink does not
    check it again: it applies its ``from`` policy (a stanza without
    ``from`` gets the component's JID) and writes it in its own stream's
    namespace, leaving the stanza's element unchanged.

    ``size`` is the posted body's length in bytes: the link prepares a large
    stanza off the event loop.
    """

    def submit(self, stanza: Stanza, *, size: int | None = None) -> Deferred[None]:
        """Queue ``stanza`` for sending.

        Fires once the stanza is durably queued.  Fails with
        :class:`~gateway.engine.errors.Unavailable` when the queue is full
        (or the store is down), or with another
        :class:`~gateway.engine.errors.CommandError` when the link's ``from``
        policy refuses the stanza.
        """
        ...

    def iq(self, stanza: Stanza, timeout: float, *, size: int | None = None) -> Deferred[str]:
        """Send an ``<iq type='get'|'set'>`` and wait for the server's answer.

        Fires with the ``result`` or ``error`` IQ that answers it, as XML
        text.  The link may give the IQ an ``id`` of its own to match the
        answer, but the answer it returns carries the caller's ``id``.  Fails
        with :class:`twisted.internet.defer.TimeoutError` (or the built-in
        :class:`TimeoutError`) when no answer came within ``timeout``
        seconds, and like :meth:`submit` when the stanza cannot be sent.
        Cancelling the Deferred forgets the IQ.
        """
        ...
