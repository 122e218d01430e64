"""Issuing OAuth tokens: who may get one, with which scopes, and the brute-force limits."""

from __future__ import annotations

import ipaddress
from typing import Any

from twisted.internet.defer import ensureDeferred
from twisted.trial.unittest import SynchronousTestCase

from gateway.engine.catalogue import Catalogue
from gateway.engine.credentials import Token
from gateway.engine.errors import TooManyFailures
from gateway.engine.model import Caller, CommandCall, CommandDefinition
from gateway.engine.oauth import MAX_TTL, IssuedToken, OAuthError, TokenGrants
from gateway.engine.permissions import Permissions
from tests.engine.oauth_helpers import EXPIRE, MAX_FAILURES, NOW, World, make_permissions

LOOPBACK = ipaddress.ip_address("127.0.0.1")
OFFICE = ipaddress.ip_address("10.1.2.3")


class GrantTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.world = World()
        self.grants = self.world.grants

    def issued(self, coroutine: Any) -> IssuedToken:
        result = self.successResultOf(ensureDeferred(coroutine))
        assert isinstance(result, IssuedToken)
        return result

    def refused(self, coroutine: Any) -> Exception:
        failure = self.failureResultOf(ensureDeferred(coroutine))
        assert isinstance(failure.value, Exception)
        return failure.value

    def oauth_error(self, coroutine: Any, code: str) -> OAuthError:
        error = self.refused(coroutine)
        assert isinstance(error, OAuthError), error
        assert error.error == code, error
        return error

    def password(self, username: str, password: str, scope: str, **kw: Any) -> Any:
        kw.setdefault("ip", LOOPBACK)
        return self.grants.password(username, password, scope, **kw)

    def run_as_bearer(self, token: str, command: str, **args: Any) -> Any:
        call = CommandCall(
            command,
            list(args.items()),
            frontend="mod_http_api",
            credentials=Token(token),
            ip=LOOPBACK,
        )
        return self.successResultOf(self.world.engine.call(call)).value

    # -- password grant -------------------------------------------------------------------------

    def test_admin_gets_an_admin_token_that_works(self) -> None:
        """The admin's password gets an ejabberd:admin token the engine accepts as Bearer."""
        token = self.issued(self.password("admin@localhost", "secret", "ejabberd:admin"))
        assert token.scopes == ("ejabberd:admin",) and token.expires_in == EXPIRE
        assert self.world.tokens.issued == [("admin", "localhost", ["ejabberd:admin"], None)]
        users = self.run_as_bearer(token.access_token, "registered_users", host="localhost")
        assert sorted(users) == ["admin", "bob"]

    def test_jid_is_prepared_and_a_resource_ignored(self) -> None:
        """``Admin@LocalHost/laptop`` logs in as admin@localhost."""
        self.issued(self.password("Admin@LocalHost/laptop", "secret", "ejabberd:admin"))
        assert self.world.tokens.issued[0][:2] == ("admin", "localhost")

    def test_wrong_password_is_invalid_grant_and_counts(self) -> None:
        """A wrong password, an unknown account or a bare name is invalid_grant, each counted."""
        for username, password in [
            ("admin@localhost", "nope"),
            ("ghost@localhost", "secret"),
            ("admin", "secret"),
        ]:
            self.oauth_error(self.password(username, password, "ejabberd:admin"), "invalid_grant")
        assert self.world.tokens.issued == []
        assert self.world.limiter.bans()  # MAX_FAILURES is 3

    def test_banned_address_is_refused_before_any_check(self) -> None:
        """Once banned, even the right password gets TooManyFailures and nothing is hashed."""
        for _ in range(MAX_FAILURES):
            self.oauth_error(
                self.password("admin@localhost", "x", "ejabberd:admin"), "invalid_grant"
            )
        checks = self.world.backend.password_checks
        error = self.refused(self.password("admin@localhost", "secret", "ejabberd:admin"))
        assert isinstance(error, TooManyFailures)
        assert self.world.backend.password_checks == checks
        # another address is not affected
        self.issued(self.password("admin@localhost", "secret", "ejabberd:admin", ip=OFFICE))

    def test_unknown_or_missing_scope_is_refused_before_the_password(self) -> None:
        """Scopes ejabberd does not know, or none, are invalid_scope; no password is checked."""
        for scope in ["", "launch_rockets", "ejabberd:admin *", 'bad"scope']:
            self.oauth_error(self.password("admin@localhost", "secret", scope), "invalid_scope")
        assert self.world.backend.password_checks == 0

    def test_a_scope_no_rule_lets_the_user_use_is_refused(self) -> None:
        """bob may not hold ejabberd:admin: only admins' tokens of that scope can run anything."""
        error = self.oauth_error(
            self.password("bob@localhost", "bobpw", "ejabberd:admin"), "invalid_scope"
        )
        assert "bob@localhost" in error.description and "ejabberd:admin" in error.description
        # nor may the admin hold a scope no rule mentions
        self.oauth_error(
            self.password("admin@localhost", "secret", "ejabberd:user"), "invalid_scope"
        )
        assert self.world.tokens.issued == []

    def test_every_scope_asked_for_must_be_usable(self) -> None:
        """One unusable scope refuses the whole request; nothing narrower is issued."""
        self.oauth_error(
            self.password("admin@localhost", "secret", "ejabberd:admin sasl_auth"), "invalid_scope"
        )
        assert self.world.tokens.issued == []

    def test_scopes_are_judged_from_the_callers_address(self) -> None:
        """A rule limited to 10.0.0.0/8 makes get_roster usable from there only."""
        self.oauth_error(self.password("bob@localhost", "bobpw", "get_roster"), "invalid_scope")
        token = self.issued(self.password("bob@localhost", "bobpw", "get_roster", ip=OFFICE))
        assert token.scopes == ("get_roster",)

    def test_scopes_are_judged_on_every_listener(self) -> None:
        """A rule for tagged listeners counts when a listener has that tag."""
        self.oauth_error(self.password("bob@localhost", "bobpw", "sasl_auth"), "invalid_scope")
        tagged = World(tags=[None, "internal"]).grants
        result = self.issued(tagged.password("bob@localhost", "bobpw", "sasl_auth", ip=LOOPBACK))
        assert result.scopes == ("sasl_auth",)

    def test_ttl(self) -> None:
        """A ttl between 1 s and ten years is passed on; others are invalid_request."""
        token = self.issued(self.password("admin@localhost", "secret", "ejabberd:admin", ttl=60))
        assert token.expires_in == 60
        for ttl in (0, -5, MAX_TTL + 1):
            self.oauth_error(
                self.password("admin@localhost", "secret", "ejabberd:admin", ttl=ttl),
                "invalid_request",
            )

    # -- client credentials ---------------------------------------------------------------------

    def client(self, client_id: str, secret: str, scope: str = "ejabberd:admin", **kw: Any) -> Any:
        kw.setdefault("ip", LOOPBACK)
        return self.grants.client_credentials(client_id, secret, scope, **kw)

    def test_client_credentials_act_for_the_account_named_by_the_client_id(self) -> None:
        """A password client registered as admin@localhost gets the admin's tokens."""
        self.world.tokens.add_password_client("admin@localhost", "s3cret")
        token = self.issued(self.client("admin@localhost", "s3cret"))
        assert self.world.tokens.issued == [("admin", "localhost", ["ejabberd:admin"], None)]
        assert self.run_as_bearer(token.access_token, "check_account", user="bob", host="localhost")

    def test_client_credentials_scopes_are_the_accounts(self) -> None:
        """A client acting for bob cannot get ejabberd:admin."""
        self.world.tokens.add_password_client("bob@localhost", "s3cret")
        self.oauth_error(self.client("bob@localhost", "s3cret"), "invalid_scope")

    def test_wrong_secret_or_unknown_client_is_invalid_client_and_counts(self) -> None:
        """A wrong or empty secret, or an unknown or implicit client, is invalid_client, counted."""
        self.world.tokens.add_password_client("admin@localhost", "s3cret")
        self.world.tokens.add_implicit_client("web", "https://app.example/cb")
        cases = [("admin@localhost", "wrong"), ("admin@localhost", ""), ("nobody", "s3cret")]
        assert len(cases) == MAX_FAILURES
        for client_id, secret in cases:
            self.oauth_error(self.client(client_id, secret), "invalid_client")
        assert self.world.tokens.issued == []
        error = self.refused(self.client("admin@localhost", "s3cret"))
        assert isinstance(error, TooManyFailures)
        # an implicit client has no secret to authenticate with
        self.oauth_error(self.client("web", "", ip=OFFICE), "invalid_client")

    def test_a_client_that_is_no_account_is_unauthorized(self) -> None:
        """A client id that is not a JID, or the JID of no account here, gets no token."""
        for client_id in ["app", "ghost@localhost", "admin@elsewhere.example"]:
            self.world.tokens.add_password_client(client_id, "s3cret")
            self.oauth_error(self.client(client_id, "s3cret"), "unauthorized_client")
        assert self.world.tokens.issued == []

    def test_long_secrets_are_refused_unread(self) -> None:
        """A secret over the limit fails without being checked."""
        self.world.tokens.add_password_client("admin@localhost", "s3cret")
        self.oauth_error(self.client("admin@localhost", "x" * 5000), "invalid_client")
        assert self.world.tokens.secret_checks == 0

    # -- implicit clients -----------------------------------------------------------------------

    def test_implicit_client_lookup(self) -> None:
        """Only a registered implicit client with exactly its redirect URI (or none) passes."""
        tokens = self.world.tokens
        tokens.add_implicit_client("web", "https://app.example/cb", "Web app")
        tokens.add_password_client("cli", "s3cret")
        found = self.successResultOf(
            ensureDeferred(self.grants.implicit_client("web", "https://app.example/cb"))
        )
        assert found.name == "Web app"
        assert self.successResultOf(ensureDeferred(self.grants.implicit_client("web", None)))
        for client_id, uri, code in [
            ("nobody", None, "invalid_client"),
            ("", None, "invalid_client"),
            ("cli", None, "unauthorized_client"),
            ("web", "https://evil.example/cb", "invalid_request"),
            ("web", "https://app.example/cb/", "invalid_request"),
        ]:
            self.oauth_error(self.grants.implicit_client(client_id, uri), code)

    def test_implicit_grant_logs_the_user_in(self) -> None:
        """The implicit grant issues the logged-in user's token, with the same checks."""
        self.world.tokens.add_implicit_client("web", "https://app.example/cb")
        client = self.successResultOf(ensureDeferred(self.grants.implicit_client("web", None)))
        grant = self.grants.implicit(
            client, "admin@localhost", "secret", "ejabberd:admin", ip=LOOPBACK
        )
        assert self.issued(grant).scopes == ("ejabberd:admin",)
        wrong = self.grants.implicit(client, "admin@localhost", "x", "ejabberd:admin", ip=LOOPBACK)
        self.oauth_error(wrong, "invalid_grant")


def test_token_expiry_comes_from_the_issuer() -> None:
    """The lifetime reported is the one the backend gave the token."""
    world = World()
    grant = world.grants.password("admin@localhost", "secret", "ejabberd:admin", 3600, ip=LOOPBACK)
    result = []
    ensureDeferred(grant).addCallback(result.append)
    assert result[0].expires_in == 3600
    assert world.backend.tokens["token1"].expires == NOW + 3600


class _OnlyAllows:
    """The same rules seen through PermissionCheck's one method."""

    def __init__(self, permissions: Permissions) -> None:
        self._permissions = permissions

    def allows(self, caller: Caller, definition: CommandDefinition) -> bool:
        return self._permissions.allows(caller, definition)


def test_one_pass_over_the_rules_answers_like_asking_each_command() -> None:
    """Permissions.allows_any gives the scope check the same answer as per-command allows()."""
    fast = World(tags=[None, "internal"])
    slow = World(tags=[None, "internal"])
    slow.engine.permissions = _OnlyAllows(make_permissions())
    slow_grants = TokenGrants(slow.engine, slow.tokens, tags=[None, "internal"])
    scopes = ["ejabberd:admin", "ejabberd:user", "sasl_auth", *Catalogue.load("24.12").names()]
    answers = set()
    for jid in ["admin@localhost", "bob@localhost"]:
        for ip in [LOOPBACK, OFFICE]:
            user, _, host = jid.partition("@")
            who = Caller(frontend="ejabberd_oauth", ip=ip, user=user, host=host)
            for scope in scopes:
                answer = fast.grants.usable(who, scope)
                assert answer == slow_grants.usable(who, scope), (jid, ip, scope)
                answers.add(answer)
    assert answers == {True, False}
