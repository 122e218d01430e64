"""The embedded backend as the /oauth endpoints' TokenIssuer: clients looked up and checked."""

from __future__ import annotations

from typing import Any

from gateway.backends.embedded import oauth
from gateway.backends.interfaces import OAuthClient
from tests.backends.embedded.cases import Mixin, PostgresCase, SQLiteCase


class OAuthClientTests(Mixin):
    async def test_clients_are_found_by_id(self) -> None:
        """oauth_client gives each registered client's kind and redirect URI, None for others."""
        await self.call(
            "oauth_add_client_password", client_id="cli", client_name="CLI", secret="s3"
        )
        await self.call(
            "oauth_add_client_implicit",
            client_id="web",
            client_name="Web",
            redirect_uri="https://app.example/cb",
        )
        assert await self.backend.oauth_client("cli") == OAuthClient("cli", "CLI", "password", "")
        assert await self.backend.oauth_client("web") == OAuthClient(
            "web", "Web", "implicit", "https://app.example/cb"
        )
        assert await self.backend.oauth_client("nobody") is None
        await self.call("oauth_remove_client", client_id="web")
        assert await self.backend.oauth_client("web") is None

    async def test_unknown_clients_cost_a_key_derivation(self) -> None:
        """An unknown client's secret is hashed like a known one's: timing tells nothing."""
        await self.call(
            "oauth_add_client_password", client_id="cli", client_name="CLI", secret="s3"
        )
        seen: list[str] = []
        real = oauth.verify_password

        def counting(password: str, credentials: Any) -> bool:
            seen.append(password)
            return real(password, credentials)

        self.patch(oauth, "verify_password", counting)  # type: ignore[attr-defined]
        assert await self.backend.check_client_secret("cli", "s3")
        assert not await self.backend.check_client_secret("cli", "wrong")
        assert not await self.backend.check_client_secret("nobody", "guess")
        assert seen == ["s3", "wrong", "guess"]


class TestOAuthClientsSQLite(OAuthClientTests, SQLiteCase):
    pass


class TestOAuthClientsPostgres(OAuthClientTests, PostgresCase):
    pass
