"""Serving the description beside /api: the right document per path, everything else to /api."""

from __future__ import annotations

import json
from typing import Any, cast

from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from gateway.engine.catalogue import Catalogue
from gateway.frontends.apidoc import ApiDescriptionResource
from tests.frontends.helpers import make_request

CURRENT = Catalogue.load("24.12")
LEGACY = Catalogue.load("23.01")


class Api(Resource):
    """Stands in for the /api resource: records what it was handed."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[bytes, list[bytes]]] = []

    def render(self, request: IRequest) -> bytes:
        self.seen.append((request.method, list(request.postpath)))
        return b"api"


def _render(
    resource: ApiDescriptionResource, method: bytes, path: str, mount: str = "/api"
) -> tuple[DummyRequest, Any]:
    request = make_request(method, path, mount=mount)
    return request, resource.render(cast(IRequest, request))


def _header(request: DummyRequest, name: bytes) -> str:
    [value] = request.responseHeaders.getRawHeaders(name)
    return cast(str, value.decode())


def _document(request: DummyRequest) -> Any:
    assert request.finished
    assert request.responseCode == 200
    assert _header(request, b"content-type") == "application/json"
    return json.loads(b"".join(request.written))


def test_openapi_document() -> None:
    """``GET /api/openapi.json`` is the unversioned document, the mount point as server."""
    api = Api()
    request, result = _render(ApiDescriptionResource(api, CURRENT), b"GET", "/api/openapi.json")
    assert result == NOT_DONE_YET
    document = _document(request)
    assert document["servers"] == [{"url": "/api"}]
    assert "/get_roster" in document["paths"]
    assert api.seen == []


def test_version_document() -> None:
    """``GET /api/v2/openapi.json`` is version 2's document; a version that does not exist,
    or any version in 23.01, is left to /api (which says "Endpoint not found.")."""
    api = Api()
    request, _ = _render(ApiDescriptionResource(api, CURRENT), b"GET", "/api/v2/openapi.json")
    assert "/get_ban_details/v2" in _document(request)["paths"]
    _, result = _render(ApiDescriptionResource(api, CURRENT), b"GET", "/api/v7/openapi.json")
    assert result == b"api"
    _, result = _render(ApiDescriptionResource(api, LEGACY), b"GET", "/api/v0/openapi.json")
    assert result == b"api"
    assert api.seen == [(b"GET", [b"v7", b"openapi.json"]), (b"GET", [b"v0", b"openapi.json"])]


def test_default_version() -> None:
    """The unversioned document follows ``default_version``, or a version in the mount path."""
    resource = ApiDescriptionResource(Api(), CURRENT, default_version=0)
    request, _ = _render(resource, b"GET", "/api/openapi.json")
    post = _document(request)["paths"]["/connected_users_number"]["post"]
    schema = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["num_sessions"]  # version 0 wraps scalars
    request, _ = _render(ApiDescriptionResource(Api(), CURRENT), b"GET", "/v1/openapi.json", "/v1")
    assert _document(request)["paths"]["/status_list"]["post"]["x-api-version"] == 0


def test_docs_page() -> None:
    """``GET /api/docs`` is the HTML page with its Content-Security-Policy; HEAD has no body."""
    resource = ApiDescriptionResource(Api(), CURRENT, custom_headers=[("X-Site", "test")])
    request, _ = _render(resource, b"GET", "/api/docs")
    assert request.responseCode == 200
    assert _header(request, b"content-type") == "text/html; charset=utf-8"
    assert _header(request, b"content-security-policy").startswith("default-src 'none'")
    assert _header(request, b"x-site") == "test"
    assert b'<section class="command" id="get_roster"' in b"".join(request.written)
    request, _ = _render(resource, b"HEAD", "/api/docs")
    assert (request.responseCode, b"".join(request.written)) == (200, b"")


def test_everything_else_goes_to_the_api() -> None:
    """Commands, other methods on the description paths and unknown paths reach /api untouched."""
    api = Api()
    resource = ApiDescriptionResource(api, CURRENT)
    for method, path in [
        (b"POST", "/api/status"),
        (b"GET", "/api/status"),
        (b"POST", "/api/openapi.json"),
        (b"POST", "/api/docs"),
        (b"GET", "/api/docs/more"),
        (b"GET", "/api"),
    ]:
        _, result = _render(resource, method, path)
        assert result == b"api", path
    assert [m for m, _ in api.seen] == [b"POST", b"GET", b"POST", b"POST", b"GET", b"GET"]
