"""``GET /metrics``: the gateway's metrics for Prometheus.

The resource only serves what a :class:`Scrapable` renders (see
:mod:`gateway.metrics`), in the format the scraper's ``Accept`` header asks
for.  Like ``/health`` it needs no credentials: it holds counts per dialect,
command and outcome, never an account, an address or a secret.
"""

from __future__ import annotations

from typing import Any, Protocol

from twisted.internet.defer import CancelledError, Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

__all__ = ["MetricsResource", "Scrapable"]

log = Logger()


class Scrapable(Protocol):
    """Renders metrics."""

    def scrape(self, accept: str | None = None) -> Deferred[tuple[bytes, str]]:
        """The metrics as ``accept`` asks for them: the body and its content type."""
        ...


class MetricsResource(Resource):
    """Answers ``GET`` and ``HEAD`` with the current metrics; 500 if they cannot be rendered."""

    isLeaf = True

    def __init__(self, metrics: Scrapable) -> None:
        super().__init__()
        self._metrics = metrics

    def render_GET(self, request: Request) -> Any:  # noqa: N802 - twisted.web's name
        accept = request.getHeader(b"accept")
        scraped = self._metrics.scrape(accept.decode("latin-1") if accept else None)
        # a scraper that hangs up stops the wait (the refresh it shares goes on)
        request.notifyFinish().addErrback(lambda _: scraped.cancel())
        scraped.addCallbacks(
            self._answer, self._failed, callbackArgs=(request,), errbackArgs=(request,)
        )
        return NOT_DONE_YET

    render_HEAD = render_GET

    def render(self, request: Request) -> Any:
        if request.method not in (b"GET", b"HEAD"):
            # answered here: twisted.web's own 405 page goes through a deprecated class
            request.setResponseCode(405)
            request.setHeader(b"Allow", b"GET, HEAD")
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            return b"405 Method Not Allowed: /metrics serves GET and HEAD\n"
        return super().render(request)

    @staticmethod
    def _answer(scraped: tuple[bytes, str], request: Request) -> None:
        body, content_type = scraped
        request.setHeader(b"Content-Type", content_type.encode("ascii"))
        request.setHeader(b"Cache-Control", b"no-store")
        request.setHeader(b"Content-Length", str(len(body)).encode("ascii"))
        request.write(body)
        request.finish()

    @staticmethod
    def _failed(reason: Failure, request: Request) -> None:
        if reason.check(CancelledError):
            return  # the scraper went away: nobody to answer
        log.failure("metrics: cannot render", reason)
        body = b"500 Internal Server Error: the metrics cannot be rendered\n"
        request.setResponseCode(500)
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        request.setHeader(b"Content-Length", str(len(body)).encode("ascii"))
        request.write(body)
        request.finish()
