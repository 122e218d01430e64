"""The ``ejabberd`` backend: commands forwarded to a real ejabberd's ``/api``.

:class:`~gateway.backends.upstream.client.UpstreamClient` is the HTTP side
(pool, TLS, limits, timeouts, the upstream's profile);
:class:`~gateway.backends.upstream.backend.UpstreamBackend` the executor the
engine runs commands through.
"""
