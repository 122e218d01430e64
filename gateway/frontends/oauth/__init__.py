"""The OAuth endpoints of ejabberd's ``ejabberd_oauth`` request handler (``/oauth``)."""

from gateway.frontends.oauth.resource import OAuthResource

__all__ = ["OAuthResource"]
