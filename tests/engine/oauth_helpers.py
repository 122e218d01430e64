"""What the OAuth tests share: a token issuer in memory and grants on a real engine.

:class:`FakeTokens` is a :class:`~gateway.backends.interfaces.TokenIssuer`
over a :class:`gateway.testing.FakeBackend`: the tokens it issues go into the
backend's ``tokens``, so they work as Bearer tokens on a real engine.
:func:`make_grants` builds :class:`TokenGrants` on a real engine with the
``api_permissions`` below and a brute-force limiter on a fake clock.
"""

from __future__ import annotations

from collections.abc import Iterable

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.testing import Clock

from gateway.backends.interfaces import OAuthClient, TokenGrant
from gateway.config.acl_parse import parse_acls
from gateway.config.permissions_parse import parse_api_permissions
from gateway.engine.auth import Authenticator
from gateway.engine.bruteforce import FailureLimiter
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandFailed
from gateway.engine.oauth import TokenGrants
from gateway.engine.permissions import Permissions
from gateway.testing import FakeBackend
from tests.engine.helpers import make_engine

NOW = 1_700_000_000.0
EXPIRE = 4294967
#: ``(user, host) -> password``
ACCOUNTS = {
    ("admin", "localhost"): "secret",
    ("bob", "localhost"): "bobpw",
}
ACL = {"admin": {"user": "admin@localhost"}}
API_PERMISSIONS = {
    "public commands": {"who": {"ip": "127.0.0.1/8"}, "what": ["status"]},
    "admin access": {
        "who": ["admin", {"oauth": {"scope": "ejabberd:admin", "acl": "admin"}}],
        "what": ["*", "!stop", "!start"],
    },
    # any account may hold a get_roster token, but only from 10.0.0.0/8
    "rosters from the office": {
        "who": {"oauth": {"scope": "get_roster", "ip": "10.0.0.0/8"}},
        "what": ["get_roster"],
    },
    # sasl_auth tokens only count on listeners tagged "internal"
    "internal listener": {
        "from": [{"tag": "internal"}],
        "who": {"oauth": {"scope": "sasl_auth", "user": "bob@localhost"}},
        "what": ["status"],
    },
}
MAX_FAILURES = 3
BAN_TIME = 100.0


class FakeTokens:
    """A token issuer in memory, issuing ``token1``, ``token2`` … into ``backend.tokens``."""

    def __init__(self, backend: FakeBackend, clock: Clock) -> None:
        self.backend = backend
        self.clock = clock
        #: ``client_id -> (client, secret)``
        self.clients: dict[str, tuple[OAuthClient, str]] = {}
        #: ``(user, host, scopes, ttl)`` of every token issued
        self.issued: list[tuple[str, str, list[str], int | None]] = []
        #: how many client secrets were checked
        self.secret_checks = 0

    def add_password_client(self, client_id: str, secret: str, name: str = "") -> None:
        self.clients[client_id] = (OAuthClient(client_id, name, "password"), secret)

    def add_implicit_client(self, client_id: str, redirect_uri: str, name: str = "") -> None:
        self.clients[client_id] = (OAuthClient(client_id, name, "implicit", redirect_uri), "")

    def issue_token(
        self, user: str, host: str, scopes: list[str], ttl: int | None = None
    ) -> Deferred[tuple[str, list[str], int]]:
        if (user, host) not in self.backend.accounts:
            return fail(CommandFailed("unknown_user", atom="not_found"))
        self.issued.append((user, host, scopes, ttl))
        token = f"token{len(self.issued)}"
        lifetime = EXPIRE if ttl is None else ttl
        granted = list(dict.fromkeys(scopes))
        expires = self.clock.seconds() + lifetime
        self.backend.tokens[token] = TokenGrant(user, host, frozenset(granted), expires)
        return succeed((token, granted, lifetime))

    def check_client_secret(self, client_id: str, secret: str) -> Deferred[bool]:
        self.secret_checks += 1
        found = self.clients.get(client_id)
        return succeed(
            found is not None and found[0].grant_type == "password" and found[1] == secret
        )

    def oauth_client(self, client_id: str) -> Deferred[OAuthClient | None]:
        found = self.clients.get(client_id)
        return succeed(found[0] if found else None)


def make_permissions() -> Permissions:
    return Permissions(parse_api_permissions(API_PERMISSIONS), parse_acls(ACL), hosts=["localhost"])


def make_limiter(clock: Clock) -> FailureLimiter:
    return FailureLimiter(clock.seconds, max_failures=MAX_FAILURES, window=60.0, ban_time=BAN_TIME)


class World:
    """A fake backend and issuer, a real engine with a limiter, and grants over them."""

    def __init__(self, tags: Iterable[str | None] = (None,)) -> None:
        self.clock = Clock()
        self.clock.advance(NOW)
        self.backend = FakeBackend(ACCOUNTS)
        self.tokens = FakeTokens(self.backend, self.clock)
        self.limiter = make_limiter(self.clock)
        self.engine: Engine = make_engine(
            self.backend,
            make_permissions(),
            authenticator=Authenticator(
                self.backend, clock=self.clock.seconds, limiter=self.limiter
            ),
        )
        self.grants = TokenGrants(self.engine, self.tokens, tags=tags)
