"""Serving the API description beside a mod_http_api handler.

``GET <mount>/openapi.json``, ``GET <mount>/v<N>/openapi.json`` and ``GET <mount>/docs``
are answered here; every other request goes to the handler itself.  No command is called
``openapi.json`` or ``docs``, so nothing a client could run is hidden.  The answers are
anonymous: they describe the commands, not the server's data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache

from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource
from twisted.web.server import NOT_DONE_YET

from gateway.engine.catalogue import Catalogue
from gateway.engine.names import LEGACY_PROFILE
from gateway.frontends.apidoc.openapi import api_versions, openapi_document
from gateway.frontends.apidoc.page import docs_page
from gateway.frontends.base import HttpAnswer, write_answer
from gateway.frontends.jsonapi.request import command_segments, path_version

__all__ = ["ApiDescriptionResource"]

_DOCUMENT = b"openapi.json"
_DOCS = b"docs"


class ApiDescriptionResource(Resource):
    """Answers the description requests for ``api`` and hands it everything else.

    Args:
        api: the mod_http_api resource this describes.
        catalogue: the listener's API profile.
        default_version: the version unversioned calls get (mod_http_api's option).
        custom_headers: the listener's extra headers, sent with every answer.
    """

    isLeaf = True

    def __init__(
        self,
        api: IResource,
        catalogue: Catalogue,
        *,
        default_version: int | None = None,
        custom_headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__()
        self._api = api
        self._catalogue = catalogue
        self._default_version = default_version
        self._custom_headers = tuple(custom_headers)

    def render(self, request: IRequest) -> bytes | int:
        if request.method in (b"GET", b"HEAD"):
            answer = self._describe(request)
            if answer is not None:
                write_answer(
                    request,
                    HttpAnswer(
                        answer.status, answer.body, (*answer.headers, *self._custom_headers)
                    ),
                )
                return NOT_DONE_YET
        result: bytes | int = self._api.render(request)
        return result

    def _describe(self, request: IRequest) -> HttpAnswer | None:
        segments = command_segments(request.postpath)
        mount = "/" + "/".join(s.decode("utf-8", "replace") for s in request.prepath)
        mount = mount.rstrip("/")
        # a handler mounted on ".../v2" answers version 2 by default, as calls through it do
        default = path_version(command_segments(request.prepath))
        if default is None:
            default = 0 if self._catalogue.profile == LEGACY_PROFILE else self._default_version
        if segments == [_DOCUMENT]:
            return _json(_document(self._catalogue, default, mount, in_path=False))
        if segments == [_DOCS]:
            page = docs_page(self._catalogue, default, mount)
            return HttpAnswer(
                200,
                page.body,
                (
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Security-Policy", page.content_security_policy),
                    ("X-Content-Type-Options", "nosniff"),
                    ("Referrer-Policy", "no-referrer"),
                ),
            )
        if len(segments) == 2 and segments[1] == _DOCUMENT:
            version = path_version(segments[:1])
            if version is not None and version in api_versions(self._catalogue):
                return _json(_document(self._catalogue, version, mount, in_path=True))
        return None


@lru_cache(maxsize=64)
def _document(catalogue: Catalogue, version: int | None, mount: str, *, in_path: bool) -> bytes:
    document = openapi_document(catalogue, version, mount, in_path=in_path)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json(body: bytes) -> HttpAnswer:
    return HttpAnswer(
        200,
        body,
        (
            ("Content-Type", "application/json"),
            # so that API tools served from elsewhere (e.g. a Swagger UI) can read it
            ("Access-Control-Allow-Origin", "*"),
            ("X-Content-Type-Options", "nosniff"),
        ),
    )
