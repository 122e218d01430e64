"""The XMPP-native backend: ejabberd's command API for any XMPP server, over the component link.

:class:`~gateway.backends.xmpp.backend.XmppBackend` runs commands as XEP-0050
ad-hoc sessions (XEP-0133 administration nodes, or ejabberd's
``api-commands/`` nodes) and XEP-0356 privileged roster IQs, claiming exactly
what the served host offers the component.
"""

from gateway.backends.xmpp.backend import XmppBackend

__all__ = ["XmppBackend"]
