"""The XEP-0114 component link: durable outbound queue, inbound handlers, stanza commands.

- :mod:`gateway.xmpp.link`: :class:`~gateway.xmpp.link.ComponentLink`, the service;
- :mod:`gateway.xmpp.queue`: the durable queue (:class:`~gateway.xmpp.queue.SqlQueue`);
- :mod:`gateway.xmpp.handlers`: what the component answers (disco#info, ping, version);
- :mod:`gateway.xmpp.poison`: which queued stanza a stream error blames (then dropped);
- :mod:`gateway.xmpp.stanzas`: stanza parsing, ``from`` policy, origin-id, wire text;
- :mod:`gateway.xmpp.commands`: the ``xmpp`` executor (send_message and friends).
"""
