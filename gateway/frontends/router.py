"""Mount request handlers by path prefix, the way ejabberd_http does.

ejabberd picks the handler whose path is the longest prefix of the request
path, so ``/api`` and ``/api/v0`` can both be handlers.  Twisted's child
lookup stops at the first leaf, so this small router does the matching and
hands the request to the handler with ``prepath``/``postpath`` set as if it
had been found by traversal.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.web import pages
from twisted.web.iweb import IRequest
from twisted.web.resource import IResource, Resource

__all__ = ["PrefixRouter", "split_path"]


def split_path(path: str) -> tuple[bytes, ...]:
    """``"/api/v0/"`` → ``(b"api", b"v0")``: empty segments dropped."""
    return tuple(s.encode("utf-8") for s in path.split("/") if s)


class PrefixRouter(Resource):
    """Dispatch each request to the handler with the longest matching path prefix."""

    isLeaf = True

    def __init__(self, handlers: Sequence[tuple[str, IResource]]) -> None:
        super().__init__()
        # longest prefix first, so the first match is the right one
        self._handlers = sorted(
            ((split_path(path), resource) for path, resource in handlers),
            key=lambda item: len(item[0]),
            reverse=True,
        )

    def render(self, request: IRequest) -> bytes | int:
        segments = tuple(s for s in request.postpath if s)
        for prefix, resource in self._handlers:
            if segments[: len(prefix)] == prefix:
                request.prepath = list(prefix)
                request.postpath = list(segments[len(prefix) :])
                return resource.render(request)
        return pages.notFound(
            "Not Found", "No request handler is configured for this path."
        ).render(request)
