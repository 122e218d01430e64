"""``POST /oauth/token`` through the resource: grants, answers, errors and bans."""

from __future__ import annotations

import json

from twisted.trial.unittest import SynchronousTestCase

from gateway.frontends.jsonapi import JsonApiResource
from tests.engine.oauth_helpers import EXPIRE, MAX_FAILURES, World
from tests.frontends.helpers import make_request
from tests.frontends.jsonapi.helpers import Answer, call
from tests.frontends.oauth.helpers import FORM, OFFICE, basic, get, post, resource

ADMIN = [("username", "admin@localhost"), ("password", "secret"), ("scope", "ejabberd:admin")]


class TokenEndpointTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.world = World()
        self.oauth = resource(self.world)

    def token(self, fields: list[tuple[str, str]], **kw: object) -> Answer:
        return post(self.oauth, "token", fields, **kw)  # type: ignore[arg-type]

    def error(self, answer: Answer, status: int, code: str) -> str:
        assert answer.status == status, answer
        body = json.loads(answer.body)
        assert body["error"] == code, body
        assert answer.header("Cache-Control") == "no-store"
        return str(body["error_description"])

    def bearer_works(self, token: str) -> bool:
        api = JsonApiResource(self.world.engine)
        request = make_request(
            b"POST",
            "/api/registered_users",
            b'{"host": "localhost"}',
            headers=[(b"Authorization", f"Bearer {token}".encode())],
        )
        return call(api, request).status == 200

    def test_password_grant(self) -> None:
        """grant_type=password answers ejabberd's JSON with RFC 6749's headers; the token works."""
        answer = self.token([("grant_type", "password"), *ADMIN])
        assert answer.status == 200
        assert answer.header("Content-Type") == "application/json;charset=UTF-8"
        assert answer.header("Cache-Control") == "no-store"
        assert answer.header("Pragma") == "no-cache"
        body = json.loads(answer.body)
        assert body == {
            "access_token": "token1",
            "token_type": "bearer",
            "scope": "ejabberd:admin",
            "expires_in": EXPIRE,
        }
        assert self.bearer_works(body["access_token"])

    def test_ttl_parameter(self) -> None:
        """ejabberd's ttl parameter sets the lifetime; a non-number is invalid_request."""
        answer = self.token([("grant_type", "password"), *ADMIN, ("ttl", "3600")])
        assert json.loads(answer.body)["expires_in"] == 3600
        bad = self.token([("grant_type", "password"), *ADMIN, ("ttl", "1h")])
        self.error(bad, 400, "invalid_request")

    def test_password_grant_failures(self) -> None:
        """Wrong password: invalid_grant; a scope bob cannot use: invalid_scope; missing fields."""
        wrong = [("grant_type", "password"), ("username", "admin@localhost"), ("password", "x")]
        self.error(self.token([*wrong, ("scope", "ejabberd:admin")]), 400, "invalid_grant")
        bob = [("grant_type", "password"), ("username", "bob@localhost"), ("password", "bobpw")]
        self.error(self.token([*bob, ("scope", "ejabberd:admin")]), 400, "invalid_scope")
        self.error(self.token([*bob]), 400, "invalid_scope")
        self.error(
            self.token([("grant_type", "password"), ("scope", "status")]), 400, "invalid_request"
        )
        assert self.world.tokens.issued == []

    def test_grant_type(self) -> None:
        """No grant_type is invalid_request; an unknown one unsupported_grant_type."""
        self.error(self.token(ADMIN), 400, "invalid_request")
        for grant in ["authorization_code", "implicit", "refresh_token"]:
            self.error(self.token([("grant_type", grant), *ADMIN]), 400, "unsupported_grant_type")

    def test_request_shape(self) -> None:
        """GET is 405; a non-form body or a repeated parameter is invalid_request."""
        answer = get(self.oauth, "token")
        self.error(answer, 405, "invalid_request")
        assert answer.header("Allow") == "POST"
        as_json = [(b"Content-Type", b"application/json")]
        self.error(
            self.token([("grant_type", "password"), *ADMIN], headers=as_json),
            400,
            "invalid_request",
        )
        twice = [("grant_type", "password"), *ADMIN, ("scope", "status")]
        self.error(self.token(twice), 400, "invalid_request")

    def test_client_credentials_grant(self) -> None:
        """A password client authenticates by Basic or by body fields and gets a working token."""
        self.world.tokens.add_password_client("admin@localhost", "s3cret")
        fields = [("grant_type", "client_credentials"), ("scope", "ejabberd:admin")]
        by_header = self.token(fields, headers=[FORM, basic("admin@localhost", "s3cret")])
        assert by_header.status == 200
        assert self.bearer_works(json.loads(by_header.body)["access_token"])
        in_body = [*fields, ("client_id", "admin@localhost"), ("client_secret", "s3cret")]
        assert self.token(in_body).status == 200

    def test_client_failures(self) -> None:
        """Wrong secret or no client: 401 invalid_client with a Basic challenge; both ways: 400."""
        self.world.tokens.add_password_client("admin@localhost", "s3cret")
        fields = [("grant_type", "client_credentials"), ("scope", "ejabberd:admin")]
        answer = self.token(fields, headers=[FORM, basic("admin@localhost", "wrong")])
        self.error(answer, 401, "invalid_client")
        assert answer.header("WWW-Authenticate") == 'Basic realm="oauth"'
        self.error(self.token(fields), 401, "invalid_client")
        both = [*fields, ("client_id", "admin@localhost")]
        answer = self.token(both, headers=[FORM, basic("admin@localhost", "s3cret")])
        self.error(answer, 400, "invalid_request")
        self.world.tokens.add_password_client("app", "s3cret")
        answer = self.token(fields, headers=[FORM, basic("app", "s3cret")])
        self.error(answer, 400, "unauthorized_client")

    def test_password_grant_checks_a_client_that_authenticates(self) -> None:
        """A client secret sent with the password grant is checked; a bare client id is not."""
        self.world.tokens.add_password_client("cli", "s3cret")
        fields = [("grant_type", "password"), *ADMIN]
        wrong = self.token(fields, headers=[FORM, basic("cli", "wrong")])
        self.error(wrong, 401, "invalid_client")
        assert self.token(fields, headers=[FORM, basic("cli", "s3cret")]).status == 200
        # requests-oauthlib sends a public client's id with an empty secret
        assert self.token(fields, headers=[FORM, basic("cli", "")]).status == 200

    def test_failed_logins_lead_to_429(self) -> None:
        """Failed logins count; then the address gets 429 with Retry-After, other addresses not."""
        wrong = [("grant_type", "password"), ("username", "admin@localhost"), ("password", "x")]
        for _ in range(MAX_FAILURES):
            self.error(self.token([*wrong, ("scope", "ejabberd:admin")]), 400, "invalid_grant")
        checks = self.world.backend.password_checks
        banned = self.token([("grant_type", "password"), *ADMIN])
        self.error(banned, 429, "temporarily_unavailable")
        assert banned.header("Retry-After") == "100"
        assert self.world.backend.password_checks == checks
        page = get(self.oauth, "authorization_token?client_id=x")
        assert page.status == 429 and b"Too many failed logins" in page.body
        assert self.token([("grant_type", "password"), *ADMIN], ip=OFFICE).status == 200

    def test_wrong_client_secrets_count_too(self) -> None:
        """Guessing a client secret bans the address like guessing a password."""
        fields = [("grant_type", "client_credentials"), ("scope", "ejabberd:admin")]
        for _ in range(MAX_FAILURES):
            self.token(fields, headers=[FORM, basic("admin@localhost", "guess")])
        answer = self.token(fields, headers=[FORM, basic("admin@localhost", "guess")])
        self.error(answer, 429, "temporarily_unavailable")

    def test_other_paths_are_not_found(self) -> None:
        """Only token and authorization_token exist under /oauth."""
        assert get(self.oauth, "").status == 404
        assert get(self.oauth, "token/extra").status == 404
        assert post(self.oauth, "authorize", [("a", "b")]).status == 404

    def test_large_bodies_are_refused(self) -> None:
        """A body over the limit is 413 invalid_request, unread."""
        small = type(self.oauth)(self.world.grants, max_body_bytes=100)
        answer = post(small, "token", b"grant_type=password&scope=" + b"x" * 200)
        self.error(answer, 413, "invalid_request")
