"""gateway.routes: commands reach the backend their route names, by name or by tag."""

from __future__ import annotations

from typing import Any

from gateway.backends.routes import RoutedExecutor
from gateway.engine.errors import NotSupported
from gateway.engine.model import Caller
from gateway.testing import FakeBackend

CALLER = Caller(frontend="mod_http_api")
TAGS = {"oauth_issue_token": ("oauth",), "stats": ("statistics",), "status": ("server",)}


class Named(FakeBackend):
    """A fake backend with a name of its own."""

    def __init__(self, name: str, answers: dict[str, Any]) -> None:
        super().__init__(answers=answers)
        self.name = name


def routed(routes: dict[str, str], **kwargs: Any) -> tuple[RoutedExecutor, Named, Named]:
    local = Named("embedded", {"oauth_issue_token": "local", "stats": "local"})
    remote = Named("ejabberd", {"oauth_issue_token": "remote", "stats": "remote", "status": 1})
    router = RoutedExecutor(
        "ejabberd",
        {"embedded": local, "ejabberd": remote},
        routes,
        lambda command: TAGS.get(command, ()),
        **kwargs,
    )
    return router, local, remote


def run(router: RoutedExecutor, command: str) -> Any:
    results: list[Any] = []
    router.execute(command, {}, CALLER).addBoth(results.append)
    return results[0]


def test_unrouted_commands_go_to_the_default() -> None:
    """Without a route a command runs on gateway.backend."""
    router, _, remote = routed({})
    assert router.route("stats") is remote
    assert run(router, "stats") == "remote"


def test_a_tag_route_takes_every_command_with_that_tag() -> None:
    """[tag:oauth] sends the OAuth commands to the embedded store, the rest upstream."""
    router, local, remote = routed({"[tag:oauth]": "embedded"})
    assert run(router, "oauth_issue_token") == "local"
    assert run(router, "stats") == "remote"


def test_a_command_route_wins_over_a_tag_route() -> None:
    """A route naming the command is stronger than one naming its tag."""
    router, _, _ = routed({"[tag:statistics]": "ejabberd", "stats": "embedded"})
    assert run(router, "stats") == "local"


def test_not_supported_names_another_backend_only_when_it_can_run_the_command() -> None:
    """The error suggests a backend that supports the command, and none otherwise."""
    router, _, _ = routed({"status": "embedded"})
    assert not router.supports("status")
    error = router.not_supported("status")
    assert isinstance(error, NotSupported)
    assert "not supported by the embedded backend; the ejabberd backend can run it" in str(error)
    alone, _, _ = routed({}, could_run=lambda command: ())
    assert str(alone.not_supported("nothing")).endswith("not supported by the ejabberd backend")


def test_could_run_names_a_backend_that_is_not_configured() -> None:
    """A backend not in use is named when the caller says it could run the command."""
    local = Named("embedded", {})
    router = RoutedExecutor(
        "embedded", {"embedded": local}, {}, lambda c: (), could_run=lambda c: ("ejabberd",)
    )
    assert "the ejabberd backend can run it" in str(router.not_supported("connected_users"))
