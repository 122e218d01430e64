"""OAuth commands and token checks of the embedded backend, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

from gateway.backends.embedded.oauth import token_id
from gateway.backends.interfaces import TokenGrant
from gateway.engine.errors import CommandFailed
from gateway.engine.model import ResTuple
from tests.backends.embedded.cases import HOST, NOW, Mixin, PostgresCase, SQLiteCase


class OAuthTests(Mixin):
    async def _issue(
        self,
        jid: str = "bob@localhost",
        ttl: int = 3600,
        scopes: list[str] | None = None,
    ) -> str:
        token, _, _ = await self.call(
            "oauth_issue_token", jid=jid, ttl=ttl, scopes=scopes or ["ejabberd:admin"]
        )
        assert isinstance(token, str)
        return token

    async def test_issue_token_shape(self) -> None:
        """oauth_issue_token answers (token, scopes, 'N seconds') and check_token accepts it."""
        await self.register("bob")
        token, scopes, expires = await self.call(
            "oauth_issue_token",
            jid="Bob@localhost/phone",
            ttl=3600,
            scopes=["get_roster", "ejabberd:user", "get_roster"],
        )
        assert len(token) == 32 and token.isalnum()
        assert scopes == ["get_roster", "ejabberd:user"]
        assert expires == "3600 seconds"
        grant = await self.backend.check_token(token)
        assert grant == TokenGrant(
            "bob", HOST, frozenset({"get_roster", "ejabberd:user"}), NOW + 3600
        )

    async def test_token_stored_hashed(self) -> None:
        """The store keeps the token's SHA-256, never the token."""
        await self.register("bob")
        token = await self._issue()
        rows = await self.store.read(lambda tx: tx.all("SELECT * FROM oauth_tokens"))
        assert len(rows) == 1 and all(token not in str(v) for v in rows[0])
        assert hashlib.sha256(token.encode()).hexdigest() in rows[0]

    async def test_token_expires(self) -> None:
        """A token is accepted until its ttl has passed, then refused and no longer listed."""
        await self.register("bob")
        token = await self._issue(ttl=60)
        self.clock.advance(59)
        assert await self.backend.check_token(token) is not None
        self.clock.advance(1)
        assert await self.backend.check_token(token) is None
        assert await self.call("oauth_list_tokens") == []

    async def test_unknown_token(self) -> None:
        """A token never issued is not accepted."""
        assert await self.backend.check_token("x" * 32) is None

    async def test_issue_token_failures(self) -> None:
        """Bad JID, unknown host or account, unknown scope and a bad ttl are clear errors."""
        await self.register("bob")
        cases = [
            ({"jid": "not a jid@", "ttl": 60, "scopes": ["sasl_auth"]}, "Invalid JID"),
            ({"jid": "localhost", "ttl": 60, "scopes": ["sasl_auth"]}, "Invalid JID"),
            (
                {"jid": "bob@nowhere.org", "ttl": 60, "scopes": ["sasl_auth"]},
                "Unknown virtual host",
            ),
            ({"jid": "ghost@localhost", "ttl": 60, "scopes": ["sasl_auth"]}, "unknown_user"),
            ({"jid": "bob@localhost", "ttl": 60, "scopes": ["launch_rockets"]}, "badscope"),
            ({"jid": "bob@localhost", "ttl": 60, "scopes": []}, "badscope"),
            ({"jid": "bob@localhost", "ttl": 0, "scopes": ["sasl_auth"]}, "ttl"),
        ]
        for args, text in cases:
            error = await self.fails("oauth_issue_token", **args)
            assert isinstance(error, CommandFailed) and text in error.message, (args, error)
        assert await self.call("oauth_list_tokens") == []

    async def test_list_tokens(self) -> None:
        """oauth_list_tokens shows each live token's id, owner, scopes and remaining seconds."""
        await self.register("bob")
        await self.register("amy")
        first = await self._issue("bob@localhost", 100, ["ejabberd:user", "status"])
        second = await self._issue("amy@localhost", 50)
        self.clock.advance(10)
        assert await self.call("oauth_list_tokens") == [
            (token_id(second), "amy@localhost", "ejabberd:admin", "40 seconds"),
            (token_id(first), "bob@localhost", "ejabberd:user status", "90 seconds"),
        ]

    async def test_revoke_by_token_or_listed_id(self) -> None:
        """A token can be revoked by its value or by the id oauth_list_tokens shows."""
        await self.register("bob")
        first, second = await self._issue(), await self._issue()
        assert await self.call("oauth_revoke_token", token=first) == ResTuple("Token revoked")
        assert await self.backend.check_token(first) is None
        listed = (await self.call("oauth_list_tokens"))[0][0]
        assert await self.call("oauth_revoke_token", token=listed) == ResTuple("Token revoked")
        assert await self.backend.check_token(second) is None
        again = await self.call("oauth_revoke_token", token=first)
        assert again == ResTuple("No such token; nothing was revoked")

    async def test_ban_and_unregister_disable_tokens(self) -> None:
        """A banned account's token stops working until unban; unregister deletes tokens."""
        await self.register("bob")
        token = await self._issue()
        await self.call("ban_account", user="bob", host=HOST, reason="r")
        assert await self.backend.check_token(token) is None
        await self.call("unban_account", user="bob", host=HOST)
        assert await self.backend.check_token(token) is not None
        await self.call("unregister", user="bob", host=HOST)
        await self.register("bob")
        assert await self.backend.check_token(token) is None

    async def test_tokens_for_accounts_kept_elsewhere(self) -> None:
        """With accounts elsewhere (auth: upstream/xmpp) a token is issued for any account
        that place knows, none in the store, and refused for one it does not know."""
        asked: list[tuple[str, str]] = []

        async def exists(user: str, host: str) -> bool:
            asked.append((user, host))
            return user == "remote"

        self.backend.use_accounts_elsewhere(exists)
        token = await self._issue(jid="Remote@localhost")
        grant = await self.backend.check_token(token)
        assert grant is not None and (grant.user, grant.host) == ("remote", HOST)
        error = await self.fails(
            "oauth_issue_token", jid="ghost@localhost", ttl=60, scopes=["sasl_auth"]
        )
        assert isinstance(error, CommandFailed)
        assert asked == [("remote", HOST), ("ghost", HOST)]

    async def test_default_lifetime(self) -> None:
        """Tokens issued without a ttl live for the configured oauth_expire."""
        await self.register("bob")
        token, scopes, lifetime = await self.backend.issue_token("bob", HOST, ["sasl_auth"])
        assert (scopes, lifetime) == (["sasl_auth"], 4294967)
        grant = await self.backend.check_token(token)
        assert grant is not None and grant.expires == NOW + 4294967

    async def test_clients(self) -> None:
        """Clients can be added (secret hashed), replaced and removed."""
        added = await self.call(
            "oauth_add_client_password", client_id="app", client_name="App", secret="s3"
        )
        assert added == ResTuple("Client app saved")
        assert await self.backend.check_client_secret("app", "s3")
        assert not await self.backend.check_client_secret("app", "s4")
        rows = await self.store.read(lambda tx: tx.all("SELECT * FROM oauth_clients"))
        assert all("s3" != v for v in rows[0])
        await self.call(
            "oauth_add_client_implicit",
            client_id="app",
            client_name="App 2",
            redirect_uri="https://app.example/cb",
        )
        assert not await self.backend.check_client_secret("app", "s3")
        row = await self.store.read(
            lambda tx: tx.one("SELECT client_name, grant_type, redirect_uri FROM oauth_clients")
        )
        assert row == ("App 2", "implicit", "https://app.example/cb")
        assert await self.call("oauth_remove_client", client_id="app") == ResTuple(
            "Client app removed"
        )
        missing = await self.call("oauth_remove_client", client_id="app")
        assert missing == ResTuple("No client app; nothing was removed")

    async def test_client_failures(self) -> None:
        """Empty client ids, secrets and redirect URIs are refused."""
        error = await self.fails(
            "oauth_add_client_password", client_id="", client_name="n", secret="s"
        )
        assert "client_id" in error.message
        error = await self.fails(
            "oauth_add_client_password", client_id="c", client_name="n", secret=""
        )
        assert "secret" in error.message
        error = await self.fails(
            "oauth_add_client_implicit", client_id="c", client_name="n", redirect_uri=""
        )
        assert "redirect_uri" in error.message


class TestOAuthSQLite(OAuthTests, SQLiteCase):
    pass


class TestOAuthPostgres(OAuthTests, PostgresCase):
    pass
