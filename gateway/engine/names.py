"""The names every layer agrees on: API profiles and frontends.

A profile names the ejabberd release whose command API callers speak; a
frontend name is what ``api_permissions`` rules list under ``from``.  Both
come from ejabberd, so they are spelled exactly as ejabberd spells them.
"""

from __future__ import annotations

__all__ = [
    "CURRENT_PROFILE",
    "EJABBERD_CTL",
    "EJABBERD_OAUTH",
    "EJABBERD_WEB_ADMIN",
    "EJABBERD_XMLRPC",
    "FRONTENDS",
    "LEGACY_PROFILE",
    "MOD_CRON",
    "MOD_HTTP_API",
    "MOD_REST",
    "PROFILES",
]

#: the API every command is implemented in (all versions of every command)
CURRENT_PROFILE = "24.12"
#: the older API, with its own list, tuple and restuple shapes
LEGACY_PROFILE = "23.01"
PROFILES: tuple[str, ...] = (CURRENT_PROFILE, LEGACY_PROFILE)

#: ``gatewayctl`` over the control socket (ejabberdctl)
EJABBERD_CTL = "ejabberd_ctl"
#: JSON ``/api``
MOD_HTTP_API = "mod_http_api"
#: XML-RPC
EJABBERD_XMLRPC = "ejabberd_xmlrpc"
#: the mod_rest text endpoint
MOD_REST = "mod_rest"
#: the OAuth endpoints (``/oauth``): a request handler, not a ``from`` name, since the
#: tokens it issues are used through the other frontends
EJABBERD_OAUTH = "ejabberd_oauth"
#: ejabberd's web admin: no gateway frontend, but rules may name it
EJABBERD_WEB_ADMIN = "ejabberd_web_admin"
#: ejabberd's scheduled commands: no gateway frontend, but rules may name it
MOD_CRON = "mod_cron"

#: the ``from`` names a caller can have
FRONTENDS: frozenset[str] = frozenset(
    {EJABBERD_CTL, MOD_HTTP_API, EJABBERD_XMLRPC, MOD_REST, EJABBERD_WEB_ADMIN}
)
