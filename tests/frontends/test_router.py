"""Request handlers mounted by path prefix, longest prefix first, like ejabberd_http."""

from __future__ import annotations

from twisted.web.resource import Resource
from twisted.web.server import Request
from twisted.web.test.requesthelper import DummyRequest

from gateway.frontends.router import PrefixRouter, split_path


class Echo(Resource):
    """Answers with its name, the prefix it was found under and what is left of the path."""

    isLeaf = True

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def render(self, request: Request) -> bytes:
        prepath = b"/".join(request.prepath)
        postpath = b"/".join(request.postpath)
        return self.name.encode() + b" " + prepath + b" " + postpath


def render(router: PrefixRouter, path: str) -> tuple[int, bytes]:
    request = DummyRequest([s.encode() for s in path.split("/")[1:]])
    body = router.render(request)
    if isinstance(body, bytes):
        request.write(body)
    return request.responseCode or 200, b"".join(request.written)


ROUTER = PrefixRouter(
    [("/api", Echo("json")), ("/api/v0", Echo("json-v0")), ("/xmlrpc", Echo("xmlrpc"))]
)


def test_longest_prefix_wins() -> None:
    """/api/v0/x goes to the /api/v0 handler even though /api is also mounted."""
    assert render(ROUTER, "/api/v0/status") == (200, b"json-v0 api/v0 status")
    assert render(ROUTER, "/api/status/v2") == (200, b"json api status/v2")


def test_sub_paths_and_empty_segments() -> None:
    """Sub-paths reach their handler; empty segments are dropped like ejabberd does."""
    assert render(ROUTER, "/xmlrpc//a/") == (200, b"xmlrpc xmlrpc a")


def test_unknown_path_is_404() -> None:
    """A path no handler claims gets 404, not a crash."""
    status, body = render(ROUTER, "/nothing")
    assert status == 404
    assert b"No request handler" in body


def test_split_path() -> None:
    """Handler paths split into segments without empties."""
    assert split_path("/api/v0/") == (b"api", b"v0")
    assert split_path("/") == ()
