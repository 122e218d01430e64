"""The command engine: what every dialect shares once its wire format is decoded.

A frontend decodes a request into a :class:`~gateway.engine.model.CommandCall`
and hands it to :meth:`~gateway.engine.dispatch.Engine.call`, which checks
the credentials, resolves the command and its API version, coerces the
arguments and asks ``api_permissions`` (in the order the caller's dialect
expects, see :mod:`.steps`), then runs the command; the
:class:`~gateway.engine.model.Result` names the definition and profile the
frontend shapes its answer by.  No module here reads or writes a wire
format; :mod:`.errors` only holds the numbers each dialect answers with.

- the call and its answer: :mod:`.model`, :mod:`.types`, :mod:`.names`,
  :mod:`.credentials`, :mod:`.steps`, :mod:`.dispatch`, :mod:`.errors`;
- commands and versions: :mod:`.catalogue`, :mod:`.versions`,
  :mod:`.adapters`, :mod:`.coercion`, :mod:`.ranges`, :mod:`.identifiers`;
- who may call: :mod:`.auth`, :mod:`.bruteforce`, :mod:`.acl`,
  :mod:`.permissions` (the rules are read from YAML by :mod:`gateway.config`);
- commands the gateway answers itself, whatever the backend:
  :mod:`.builtin`, :mod:`.server`, :mod:`.bans`, with :mod:`.files` and
  :mod:`.caches`.

The engine imports nothing from :mod:`gateway.config`,
:mod:`gateway.frontends`, :mod:`gateway.xmpp` or a backend package; it
reaches backends only through :mod:`gateway.backends.interfaces`.
"""
