"""xmpp-api-gateway: ejabberd's command API dialects served by one Twisted daemon."""

__version__ = "0.1.0"
