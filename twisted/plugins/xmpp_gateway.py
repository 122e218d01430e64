"""twistd plugin: ``twistd -n xmpp-gateway --config conf/gateway.yml``."""

from twisted.application.service import ServiceMaker

xmppGateway = ServiceMaker(
    "xmpp-api-gateway",
    "gateway.tap",
    "ejabberd command API gateway (XML-RPC, mod_rest, /api, gatewayctl)",
    "xmpp-gateway",
)
