"""Request heads as ejabberd's HTTP listener reads them: what PHP's stream wrapper sends.

mod_rest's README shows a PHP client that passes its headers to
``file_get_contents`` as one string separated by bare line feeds
(``"Host: …\\nContent-Type: …\\nContent-Length: 34"``).  PHP writes that
string between CRLF-terminated lines of its own and adds a second, identical
``Content-Length`` (and a second ``Content-Type``).  ejabberd reads it,
twisted.web alone answers ``400 Bad Request``.  :class:`LenientHeadChannel`
accepts exactly those two things and nothing more:

- **a bare LF ends a header line** (RFC 9112 §2.2 lets a recipient recognise
  a single LF as a line terminator), only among the header fields: the
  request line, chunked bodies and trailers are parsed as before.  An empty
  line between two LFs (which would end the head in the middle of a line) is
  still refused.  nginx and ejabberd split on bare LFs the same way, so a
  proxy in front of the gateway sees the same fields.
- **identical repeated ``Content-Length`` values count as one** (RFC 9110
  §8.6 allows it).  Differing values, a malformed one, or a length together
  with ``Transfer-Encoding`` are refused with 400 exactly as twisted.web
  refuses them, so the body's end is never in doubt and requests cannot be
  smuggled.
"""

from __future__ import annotations

from twisted.web.http import HTTPChannel

__all__ = ["LenientHeadChannel"]

_CONTENT_LENGTH = b"content-length"


class LenientHeadChannel(HTTPChannel):
    """An :class:`~twisted.web.http.HTTPChannel` reading request heads as ejabberd does."""

    def lineReceived(self, line: bytes) -> None:  # noqa: N802 - Twisted's name
        if b"\n" not in line or not self._reading_fields():
            super().lineReceived(line)
            return
        fields = line.split(b"\n")
        if not all(fields):
            # an empty line inside a line: leave it to twisted.web, which refuses it
            super().lineReceived(line)
            return
        for field in fields:
            super().lineReceived(field)
            if self.transport is None or getattr(self.transport, "disconnecting", False):
                return  # refused: the rest of the line is not read

    def headerReceived(self, line: bytes) -> bool:  # noqa: N802 - Twisted's name
        name, colon, value = line.partition(b":")
        if colon and name.lower() == _CONTENT_LENGTH:
            value = value.strip(b" \t")
            seen = self.requests[-1].requestHeaders.getRawHeaders(_CONTENT_LENGTH)
            if value.isdigit() and seen == [value]:
                return True  # the length already chosen, stated again: one header
        accepted: bool = super().headerReceived(line)
        return accepted

    def _reading_fields(self) -> bool:
        """Whether the line is a header field: the request line is in, the head is not over.

        twisted.web keeps the parsed request line in ``_command`` from then
        until the request is complete.
        """
        return getattr(self, "_command", None) is not None
