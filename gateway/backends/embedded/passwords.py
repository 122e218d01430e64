"""Salted, iterated password hashes in the SCRAM-SHA-256 form (RFC 5802 / RFC 7677).

The store keeps the salt, the iteration count, ``StoredKey`` and ``ServerKey``:
enough to check a plaintext password (and, later, to run a SCRAM exchange),
never enough to recover the password.  The password is hashed as its UTF-8
bytes, with no further normalisation, so every entry point (API, extauth)
agrees on what a password is.

Because only this form is kept, ``check_password_hash`` with ejabberd's
``md5``/``sha`` methods (a digest of the plaintext) cannot be answered: the
keys come out of PBKDF2 and HMAC, and no digest of the plaintext can be
compared with them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

__all__ = [
    "DIGEST_METHODS",
    "ITERATIONS",
    "SCHEME",
    "ScramCredentials",
    "hash_password",
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


def hash_password(
    password: str, iterations: int = ITERATIONS, salt: bytes | None = None
) -> ScramCredentials:
    """Fresh credentials for ``password`` with a random salt."""
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    stored_key, server_key = _keys(password, salt, iterations)
    return ScramCredentials(_b64(salt), iterations, _b64(stored_key), _b64(server_key))


def verify_password(password: str, credentials: ScramCredentials) -> bool:
    """Whether ``password`` produces the stored keys (constant-time comparison)."""
    if credentials.scheme != SCHEME:
        return False
    salt = base64.b64decode(credentials.salt)
    stored_key, _ = _keys(password, salt, credentials.iterations)
    return hmac.compare_digest(stored_key, base64.b64decode(credentials.stored_key))


#: the hash methods ``check_password_hash`` accepts, as ejabberd documents them
DIGEST_METHODS = ("md5", "sha")
