"""The implicit grant's page, ``/oauth/authorization_token``, through the resource."""

from __future__ import annotations

from urllib.parse import urlencode

from lxml import html
from twisted.trial.unittest import SynchronousTestCase

from tests.engine.oauth_helpers import MAX_FAILURES, World
from tests.frontends.jsonapi.helpers import Answer
from tests.frontends.oauth.helpers import fragment, get, post, resource, send

CALLBACK = "https://app.example/cb"
QUERY = [
    ("response_type", "token"),
    ("client_id", "web"),
    ("redirect_uri", CALLBACK),
    ("scope", "ejabberd:admin"),
    ("state", "xyz"),
]
LOGIN = [("username", "admin@localhost"), ("password", "secret"), ("action", "accept")]


def replaced(pairs: list[tuple[str, str]], **changes: str) -> list[tuple[str, str]]:
    """``pairs`` with the named values changed (or left out when the value is ``None``)."""
    out = [(k, changes.get(k, v)) for k, v in pairs]
    return [(k, v) for k, v in out if v is not None]


class AuthorizationPageTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.world = World()
        self.world.tokens.add_implicit_client("web", CALLBACK, "Web <b>app</b>")
        self.oauth = resource(self.world)

    def page(self, query: list[tuple[str, str]]) -> Answer:
        return get(self.oauth, "authorization_token?" + urlencode(query))

    def submit(self, fields: list[tuple[str, str]], **kw: str) -> Answer:
        return post(self.oauth, "authorization_token", fields, **kw)

    def refused_without_redirect(self, answer: Answer, text: str) -> None:
        assert answer.status == 400, answer
        assert answer.header("Location") is None
        assert text in html.fromstring(answer.body).get_element_by_id("error").text_content()

    def test_the_form(self) -> None:
        """GET shows a self-contained form posting the request's parameters back."""
        answer = self.page(QUERY)
        assert answer.status == 200
        assert answer.header("Content-Type") == "text/html; charset=utf-8"
        csp = answer.header("Content-Security-Policy") or ""
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert answer.header("X-Frame-Options") == "DENY"
        assert answer.header("Cache-Control") == "no-store"
        doc = html.fromstring(answer.body)
        form = doc.forms[0]
        assert form.method == "POST" and form.action == "authorization_token"
        fields = dict(form.form_values())
        assert fields == {
            "response_type": "token",
            "client_id": "web",
            "redirect_uri": CALLBACK,
            "state": "xyz",
            "username": "",
            "scope": "ejabberd:admin",
            "ttl": "",
        }
        assert {i.name for i in form.inputs if i.get("type") == "password"} == {"password"}
        # nothing is loaded from anywhere
        assert not doc.xpath("//script|//link|//img|//iframe|//*[@src]")

    def test_everything_shown_is_escaped(self) -> None:
        """Client name, state and typed JID cannot inject markup."""
        evil = '"><script>alert(1)</script>'
        answer = self.page(replaced(QUERY, state=evil))
        assert b"<script>" not in answer.body and b"<b>app</b>" not in answer.body
        doc = html.fromstring(answer.body)
        assert dict(doc.forms[0].form_values())["state"] == evil
        assert "Web <b>app</b>" in doc.text_content()
        again = self.submit([*replaced(QUERY, state=evil), ("username", evil), ("password", "x")])
        assert b"<script>" not in again.body
        assert dict(html.fromstring(again.body).forms[0].form_values())["username"] == evil

    def test_login_redirects_with_the_token_in_the_fragment(self) -> None:
        """A right password sends the browser to the registered URI with the token after '#'."""
        answer = self.submit([*QUERY, *LOGIN, ("ttl", "3600")])
        target, fields = fragment(answer)
        assert target == CALLBACK
        assert fields == {
            "access_token": "token1",
            "token_type": "bearer",
            "expires_in": "3600",
            "scope": "ejabberd:admin",
            "state": "xyz",
        }
        assert self.world.tokens.issued == [("admin", "localhost", ["ejabberd:admin"], 3600)]

    def test_the_user_may_narrow_or_change_scopes(self) -> None:
        """The scopes posted, not those first asked for, are what the token gets (if allowed)."""
        fields = replaced([*QUERY, *LOGIN], scope="ejabberd:admin get_roster")
        _, got = fragment(self.submit(fields, ip="10.1.2.3"))
        assert got["scope"] == "ejabberd:admin get_roster"

    def test_a_redirect_uri_may_be_left_out(self) -> None:
        """Without redirect_uri the registered one is used."""
        target, _ = fragment(self.submit(replaced([*QUERY, *LOGIN], redirect_uri=None)))
        assert target == CALLBACK

    def test_wrong_password_shows_the_form_again_and_counts(self) -> None:
        """A wrong JID or password re-shows the form with an error; failures lead to a ban."""
        for _ in range(MAX_FAILURES):
            answer = self.submit([*QUERY, *replaced(LOGIN, password="wrong")])
            assert answer.status == 200 and answer.header("Location") is None
            doc = html.fromstring(answer.body)
            assert "Wrong JID or password" in doc.get_element_by_id("error").text_content()
            assert dict(doc.forms[0].form_values())["username"] == "admin@localhost"
        banned = self.submit([*QUERY, *LOGIN])
        assert banned.status == 429 and banned.header("Retry-After") == "100"
        assert banned.header("Location") is None
        assert self.world.tokens.issued == []

    def test_client_and_redirect_are_checked_before_anything(self) -> None:
        """Unknown client, another kind of client or another redirect URI: a page, no redirect."""
        self.world.tokens.add_password_client("cli", "s3cret")
        self.refused_without_redirect(self.page(replaced(QUERY, client_id="nobody")), "unknown")
        self.refused_without_redirect(self.page(replaced(QUERY, client_id="cli")), "implicit")
        evil = replaced(QUERY, redirect_uri="https://evil.example/")
        self.refused_without_redirect(self.page(evil), "redirect_uri")
        # posting the form with other parameters is checked just the same
        self.refused_without_redirect(self.submit([*evil, *LOGIN]), "redirect_uri")
        assert self.world.backend.password_checks == 0

    def test_unusable_registered_redirects_are_refused(self) -> None:
        """A registered URI with a fragment, a script scheme or no scheme is never followed."""
        for uri in ["https://app.example/cb#x", "javascript:alert(1)", "/relative", "http://a b/"]:
            self.world.tokens.add_implicit_client("odd", uri)
            query = replaced(QUERY, client_id="odd", redirect_uri=uri)
            self.refused_without_redirect(self.page(query), "cannot be used")

    def test_errors_the_client_should_hear_of_are_redirected(self) -> None:
        """Wrong response_type, unknown or unusable scope, or a refusal go back with error=."""
        cases = [
            (self.page(replaced(QUERY, response_type="code")), "unsupported_response_type"),
            (self.page(replaced(QUERY, scope="launch_rockets")), "invalid_scope"),
            (self.page(replaced(QUERY, scope=None)), "invalid_scope"),
            (self.submit([*QUERY, *replaced(LOGIN, action="deny")]), "access_denied"),
            (
                self.submit([*QUERY, *replaced(LOGIN, username="bob@localhost", password="bobpw")]),
                "invalid_scope",
            ),
        ]
        for answer, code in cases:
            target, fields = fragment(answer)
            assert target == CALLBACK
            assert fields["error"] == code and fields["state"] == "xyz", fields
            assert "access_token" not in fields
        assert self.world.tokens.issued == []

    def test_ttl_must_be_one_offered(self) -> None:
        """A lifetime other than those on the form shows the form again."""
        answer = self.submit([*QUERY, *LOGIN, ("ttl", "99")])
        assert answer.status == 200 and b"token lifetimes offered" in answer.body

    def test_methods(self) -> None:
        """HEAD works like GET without a body; PUT is 405; a non-form POST is refused."""
        query = "authorization_token?" + urlencode(QUERY)
        head = send(self.oauth, b"HEAD", query)
        assert head.status == 200 and head.body == b"" and head.header("Content-Length") == "0"
        put = send(self.oauth, b"PUT", query)
        assert put.status == 405 and put.header("Allow") == "GET, HEAD, POST"
        as_json = post(self.oauth, "authorization_token", b"{}", headers=[])
        self.refused_without_redirect(as_json, "application/x-www-form-urlencoded")
