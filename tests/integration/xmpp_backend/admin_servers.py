"""Debian's Prosody 0.12 and ejabberd 23.01, configured to let a component administer the host.

The configuration is what the README's "In front of Prosody" section tells operators to write
(and what was observed to work on both servers): the component's domain
is a server admin, the XEP-0133 admin commands are on, and XEP-0356 grants the component the
roster (get and set) and outgoing-message privileges.
"""

from __future__ import annotations

from typing import Any

from tests.integration.servers import EjabberdServer, ProsodyServer, XmppServer

COMPONENT_DOMAIN = "api.localhost"

#: ejabberd.yml additions (merged one level deep into the harness's configuration)
EJABBERD_EXTRA: dict[str, Any] = {
    "acl": {"admin": {"server": [COMPONENT_DOMAIN]}},
    "access_rules": {"configure": {"allow": "admin"}},
    "modules": {
        "mod_adhoc": {},
        "mod_configure": {},
        "mod_privilege": {
            "roster": {"both": "configure"},
            "message": {"outgoing": "configure"},
        },
    },
}


def prosody(**options: Any) -> ProsodyServer:
    """A Prosody whose component ``api.localhost`` is an admin with roster and message rights."""
    return ProsodyServer(
        component_domain=COMPONENT_DOMAIN,
        modules=["admin_adhoc"],
        settings={"admins": [COMPONENT_DOMAIN]},
        vhost_settings={
            "modules_enabled": ["privilege"],
            "privileged_entities": {COMPONENT_DOMAIN: {"roster": "both", "message": "outgoing"}},
        },
        component_settings={"modules_enabled": ["privilege"]},
        **options,
    )


def ejabberd(**options: Any) -> EjabberdServer:
    """An ejabberd whose component ``api.localhost`` is an admin with roster and message rights."""
    return EjabberdServer(component_domain=COMPONENT_DOMAIN, extra=EJABBERD_EXTRA, **options)


FACTORIES = {"prosody": prosody, "ejabberd": ejabberd}


def make(kind: str, **options: Any) -> XmppServer:
    """The server ``kind`` (``prosody`` or ``ejabberd``), not started."""
    return FACTORIES[kind](**options)
