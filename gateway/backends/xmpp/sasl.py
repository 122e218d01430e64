"""The client side of SASL SCRAM (RFC 5802, without channel binding) and PLAIN (RFC 4616).

Only what a login check needs: the messages a client sends, and the checks of
what the server answers.  Salting the password (PBKDF2, thousands of rounds)
is a separate pure function, :func:`salted_password`, so the caller can run it
off the event loop.  Passwords arrive already prepared with SASLprep (the
engine's authenticator does it); user names are XMPP local parts, already
nodeprepped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = [
    "MAX_ITERATIONS",
    "ScramClient",
    "ScramError",
    "ServerFirst",
    "plain_message",
    "salted_password",
]

#: more PBKDF2 rounds than this is refused: a server asking for more would
#: make each check burn seconds of CPU (real servers use 4096 to 10000)
MAX_ITERATIONS = 1_000_000

# "n": this client does not do channel binding; no authorisation identity
_GS2_HEADER = b"n,,"


class ScramError(Exception):
    """The server's SCRAM message is malformed, or fails a check it must pass."""


@dataclass(frozen=True, slots=True)
class ServerFirst:
    """The server's first message: the combined nonce, the salt and the round count."""

    raw: bytes
    nonce: str
    salt: bytes
    iterations: int


def plain_message(user: str, password: str) -> bytes:
    """The PLAIN initial response: no authorisation identity, then user and password."""
    return b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")


def salted_password(password: str, salt: bytes, iterations: int, hash_name: str = "sha1") -> bytes:
    """``Hi(password, salt, i)``: the expensive step, a pure function safe to run in a thread."""
    return hashlib.pbkdf2_hmac(hash_name, password.encode("utf-8"), salt, iterations)


def _escape_name(name: str) -> str:
    # RFC 5802 5.1: "," and "=" cannot appear raw in the saslname
    return name.replace("=", "=3D").replace(",", "=2C")


def _attributes(message: bytes) -> list[tuple[str, str]]:
    try:
        text = message.decode("utf-8")
    except UnicodeDecodeError:
        raise ScramError("the server's SCRAM message is not UTF-8") from None
    pairs = []
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or len(key) != 1:
            raise ScramError(f"malformed SCRAM attribute {part[:40]!r}")
        pairs.append((key, value))
    return pairs


class ScramClient:
    """One SCRAM exchange, seen from the client.

    Args:
        user: the user name (an XMPP local part).
        hash_name: the hashlib name of the SCRAM hash (``sha1`` for SCRAM-SHA-1).
        nonce: the client nonce; random unless given (tests use RFC 5802's).
    """

    def __init__(self, user: str, hash_name: str = "sha1", nonce: str | None = None) -> None:
        self.hash_name = hash_name
        self.nonce = nonce if nonce is not None else secrets.token_urlsafe(24)
        self._client_first_bare = f"n={_escape_name(user)},r={self.nonce}".encode()
        self._expected_signature: bytes | None = None

    def first_message(self) -> bytes:
        """``client-first-message``."""
        return _GS2_HEADER + self._client_first_bare

    def read_server_first(self, message: bytes) -> ServerFirst:
        """Check and take apart ``server-first-message``.

        Raises:
            ScramError: a missing or extra attribute, a nonce that does not
                extend ours, a bad salt or round count.
        """
        attrs = _attributes(message)
        if attrs and attrs[0][0] == "m":
            raise ScramError("the server asks for a SCRAM extension this client does not know")
        keys = [key for key, _ in attrs]
        if keys[:3] != ["r", "s", "i"]:
            raise ScramError("the server's first SCRAM message lacks r, s or i")
        nonce, salt_text, rounds = (value for _, value in attrs[:3])
        if not nonce.startswith(self.nonce) or len(nonce) == len(self.nonce):
            raise ScramError("the server's SCRAM nonce does not extend the client's")
        try:
            salt = base64.b64decode(salt_text, validate=True)
        except ValueError:
            raise ScramError("the server's SCRAM salt is not base64") from None
        if not rounds.isdigit() or not 1 <= int(rounds) <= MAX_ITERATIONS:
            raise ScramError(f"the server asks for an unacceptable round count {rounds[:20]!r}")
        return ServerFirst(raw=message, nonce=nonce, salt=salt, iterations=int(rounds))

    def final_message(self, first: ServerFirst, salted: bytes) -> bytes:
        """``client-final-message`` with its proof, from :func:`salted_password`'s result."""
        without_proof = b"c=" + base64.b64encode(_GS2_HEADER) + b",r=" + first.nonce.encode()
        auth_message = self._client_first_bare + b"," + first.raw + b"," + without_proof
        client_key = self._hmac(salted, b"Client Key")
        stored_key = hashlib.new(self.hash_name, client_key).digest()
        client_signature = self._hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, client_signature, strict=True))
        server_key = self._hmac(salted, b"Server Key")
        self._expected_signature = self._hmac(server_key, auth_message)
        return without_proof + b",p=" + base64.b64encode(proof)

    def check_server_final(self, message: bytes) -> None:
        """Check ``server-final-message``: the server must prove it knows the credentials.

        Raises:
            ScramError: the server reports an error (``e=``), or its signature is wrong.
        """
        if self._expected_signature is None:
            raise ScramError("the server's final SCRAM message came before the client's")
        attrs = _attributes(message)
        if attrs and attrs[0][0] == "e":
            raise ScramError(f"the server ended SCRAM with the error {attrs[0][1][:80]!r}")
        if not attrs or attrs[0][0] != "v":
            raise ScramError("the server's final SCRAM message has no verifier")
        try:
            signature = base64.b64decode(attrs[0][1], validate=True)
        except ValueError:
            raise ScramError("the server's SCRAM verifier is not base64") from None
        if not hmac.compare_digest(signature, self._expected_signature):
            raise ScramError("the server's SCRAM signature is wrong")

    def _hmac(self, key: bytes, data: bytes) -> bytes:
        return hmac.new(key, data, self.hash_name).digest()
