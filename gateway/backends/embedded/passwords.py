"""Password storage: salted SCRAM-SHA-256 keys, plus optional legacy digests.

The store always keeps the salt, the iteration count, ``StoredKey`` and
``ServerKey`` (RFC 5802 / RFC 7677): enough to check a plaintext password
(and, later, to run a SCRAM exchange), never enough to recover it.  The
functions here hash the UTF-8 bytes of the text they are given; callers hand
them the password after SASLprep
(:func:`gateway.engine.identifiers.prepare_password`), so every entry point
(API, extauth, the XMPP server's SASL) agrees on what a password is.

Checking a password always costs one PBKDF2: an account that does not exist
is checked against :data:`DUMMY_CREDENTIALS`, so timing a check does not tell
whether the account exists.

``check_password_hash`` (what old clients such as pyejabberd use instead of
``check_password``) hands over an *unsalted* digest of the plaintext, which
no SCRAM key can be compared with.  When the operator opts in with
``gateway.password_digests``, the store also keeps those unsalted hex
digests (:func:`plain_digests`), written whenever a password is set.  That is
weaker than SCRAM alone: an unsalted MD5 or SHA-1 digest is cheap to attack
with precomputed tables and fast guessing, so a stolen database reveals weak
passwords much sooner.  Leave the option empty unless such a client needs it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "DIGEST_METHODS",
    "DUMMY_CREDENTIALS",
    "STORABLE_DIGESTS",
    "ITERATIONS",
    "SCHEME",
    "ScramCredentials",
    "digest_matches",
    "hash_password",
    "plain_digests",
    "verify_password",
]

SCHEME = "scram-sha-256"
ITERATIONS = 4096
SALT_BYTES = 16


@dataclass(frozen=True, slots=True)
class ScramCredentials:
    """What the store keeps for one password (base64 text, ready for a TEXT column)."""

    salt: str
    iterations: int
    stored_key: str
    server_key: str
    scheme: str = SCHEME


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    return stored_key, server_key


#: what a missing account is checked against: the cost of a real one, and no
#: password can produce an all-zero StoredKey
DUMMY_CREDENTIALS = ScramCredentials(
    _b64(bytes(SALT_BYTES)), ITERATIONS, _b64(bytes(32)), _b64(bytes(32))
)


def hash_password(
    password: str, iterations: int = ITERATIONS, salt: bytes | None = None
) -> ScramCredentials:
    """Fresh credentials for ``password`` with a random salt."""
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    stored_key, server_key = _keys(password, salt, iterations)
    return ScramCredentials(_b64(salt), iterations, _b64(stored_key), _b64(server_key))


def verify_password(password: str, credentials: ScramCredentials) -> bool:
    """Whether ``password`` produces the stored keys (constant-time comparison).

    Credentials of an unknown scheme never match, after the same work as any other.
    """
    usable = credentials.scheme == SCHEME
    used = credentials if usable else DUMMY_CREDENTIALS
    stored_key, _ = _keys(password, base64.b64decode(used.salt), used.iterations)
    return hmac.compare_digest(stored_key, base64.b64decode(used.stored_key)) and usable


#: the hash methods ``check_password_hash`` accepts, as ejabberd documents them
DIGEST_METHODS = ("md5", "sha")

#: ejabberd's hash method names the store can keep a digest for -> hashlib's names
STORABLE_DIGESTS: dict[str, str] = {
    "md5": "md5",
    "sha": "sha1",
    "sha224": "sha224",
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512": "sha512",
}


def plain_digests(password: str, methods: Iterable[str]) -> dict[str, str]:
    """``method -> lower-case hex digest`` of the UTF-8 password, unsalted, for each method.

    Raises:
        ValueError: for a method not in :data:`STORABLE_DIGESTS`.
    """
    data = password.encode("utf-8")
    digests = {}
    for method in methods:
        name = STORABLE_DIGESTS.get(method)
        if name is None:
            raise ValueError(f"cannot keep a {method!r} password digest")
        digests[method] = hashlib.new(name, data).hexdigest()
    return digests


def _spellings(stored_hex: str) -> tuple[str, ...]:
    """The upper-case texts clients send for one digest.

    ejabberd writes each byte as two upper-case hex digits; releases before
    that wrote a byte without its leading zero, and pyejabberd, imitating
    them, drops a zero byte altogether.  All three are accepted.
    """
    pairs = [stored_hex[i : i + 2].upper() for i in range(0, len(stored_hex), 2)]
    unpadded = [pair[1:] if pair.startswith("0") else pair for pair in pairs]
    return (
        "".join(pairs),
        "".join(unpadded),
        "".join("" if pair == "00" else pair.lstrip("0") for pair in pairs),
    )


def digest_matches(stored_hex: str, supplied: str) -> bool:
    """Whether a client's hex text ``supplied`` is the digest ``stored_hex``.

    Case does not matter; each comparison runs in constant time.
    """
    candidate = supplied.upper().encode("ascii", "replace")
    found = False
    for spelling in _spellings(stored_hex):
        found |= hmac.compare_digest(candidate, spelling.encode("ascii"))
    return found
