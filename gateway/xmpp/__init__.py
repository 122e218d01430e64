"""The XEP-0114 component link: durable outbound queue, inbound handlers, stanza commands.

- :mod:`gateway.xmpp.link`: :class:`~gateway.xmpp.link.ComponentLink`, the service and the
  face the rest of the gateway uses, made of:
- :mod:`gateway.xmpp.session`: the connection, its backoff and handshake;
- :mod:`gateway.xmpp.pump`: the queue written to the stream, confirmed by pings;
- :mod:`gateway.xmpp.iq_tracker`: IQs a caller waits for, matched to their answers;
- :mod:`gateway.xmpp.status`: the link's state, ``status`` lines and ``/health``;
- :mod:`gateway.xmpp.handlers`: what the component answers (disco#info, ping, version);
- :mod:`gateway.xmpp.poison`: which queued stanza a stream error blames (then dropped);
- :mod:`gateway.xmpp.wire`: stanzas on the stream (namespaces, origin-id, IQ answers), once
  :mod:`gateway.stanza` has checked them;
- :mod:`gateway.xmpp.commands`: the ``xmpp`` executor (send_message and friends).
"""
