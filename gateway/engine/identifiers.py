"""Length checks and preparation of what callers name: users, hosts, resources, JIDs, passwords.

Every dialect, extauth and the embedded backend prepare caller text here, so
one set of rules applies everywhere.  The cheap length checks run *before*
any preparation: stringprep costs microseconds per character on the event
loop, so a megabyte-long name has to be refused before it is looked at.

- user, host and resource parts (RFC 6122 nodeprep, nameprep, resourceprep)
  are at most :data:`MAX_PART_BYTES` UTF-8 bytes, before and after preparation;
- passwords are prepared with SASLprep (RFC 4013), as XMPP servers prepare
  them for SASL PLAIN, and are at most ``gateway.limits.max_password_bytes``.

Each function either returns the prepared text or raises
:class:`InvalidIdentifier`, never anything else, whatever the input.

The profiles are built from the standard library's stringprep tables.
ASCII, by far the common case, takes a shortcut with the same result
(the unit tests compare every profile with Twisted's implementation).
"""

from __future__ import annotations

import re
import stringprep
from collections.abc import Callable
from dataclasses import dataclass
from encodings import idna
from itertools import chain
from unicodedata import ucd_3_2_0

__all__ = [
    "DEFAULT_MAX_PASSWORD_BYTES",
    "MAX_PART_BYTES",
    "InvalidIdentifier",
    "JIDParts",
    "nameprep",
    "nodeprep",
    "prepare_account",
    "prepare_jid",
    "prepare_jid_parts",
    "prepare_password",
    "resourceprep",
]

#: longest user, host or resource part, in UTF-8 bytes (RFC 6122 section 2)
MAX_PART_BYTES = 1023
#: the default of ``gateway.limits.max_password_bytes``
DEFAULT_MAX_PASSWORD_BYTES = 1024

#: ``(user, host, resource)``; user and resource are ``None`` when absent
JIDParts = tuple[str | None, str, str | None]


class InvalidIdentifier(ValueError):
    """Text that cannot be a user, host, resource, JID or password.

    The message says why without quoting the text (which may be huge, or a
    password).
    """


def _check_length(text: str, limit: int, what: str) -> None:
    # len() first: it costs nothing, and no character is shorter than one byte
    if len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit:
        raise InvalidIdentifier(f"{what} is longer than {limit} bytes")


# -- stringprep profiles --------------------------------------------------------------------------

#: the tables every profile here prohibits outside ASCII (C.1.1 and C.2.1 are ASCII-only)
_PROHIBITED: tuple[Callable[[str], bool], ...] = (
    stringprep.in_table_c12,
    stringprep.in_table_c22,
    stringprep.in_table_c3,
    stringprep.in_table_c4,
    stringprep.in_table_c5,
    stringprep.in_table_c6,
    stringprep.in_table_c7,
    stringprep.in_table_c8,
    stringprep.in_table_c9,
)
_ASCII_CONTROLS = frozenset(chr(n) for n in chain(range(0x20), [0x7F]))  # C.2.1


@dataclass(frozen=True, slots=True)
class _Profile:
    """One stringprep profile (RFC 3454): map, normalise (NFKC), prohibit, check bidi."""

    what: str
    #: B.2: fold case
    fold_case: bool
    #: SASLprep maps non-ASCII spaces (C.1.2) to U+0020 instead of refusing them
    spaces_to_space: bool
    #: ASCII characters refused (C.1.1, C.2.1, plus a profile's own)
    ascii_prohibited: frozenset[str]
    #: whether an error may name the offending character (not for passwords)
    show_character: bool = True

    def prepare(self, text: str) -> str:
        if text.isascii():
            # for ASCII, B.1 maps nothing, B.2 is lower(), NFKC changes nothing,
            # no RandALCat exists and nothing is unassigned: only the refusals remain
            prepared = text.lower() if self.fold_case else text
            if not self.ascii_prohibited.isdisjoint(prepared):
                bad = next(c for c in prepared if c in self.ascii_prohibited)
                raise self._refused(bad, "is not allowed")
            return prepared
        prepared = ucd_3_2_0.normalize("NFKC", self._map(text))
        self._check(prepared)
        return prepared

    def _map(self, text: str) -> str:
        mapped = []
        for c in text:
            if c < "\x80":
                mapped.append(c.lower() if self.fold_case else c)
            elif stringprep.in_table_b1(c):
                continue
            elif self.spaces_to_space and stringprep.in_table_c12(c):
                mapped.append(" ")
            elif self.fold_case:
                mapped.append(stringprep.map_table_b2(c))
            else:
                mapped.append(c)
        return "".join(mapped)

    def _check(self, text: str) -> None:
        rand_al = l_cat = False
        for c in text:
            if c < "\x80":
                if c in self.ascii_prohibited:
                    raise self._refused(c, "is not allowed")
                l_cat = l_cat or c.isalpha()  # ASCII letters are the only ASCII LCat
                continue
            if any(table(c) for table in _PROHIBITED):
                raise self._refused(c, "is not allowed")
            if stringprep.in_table_a1(c):
                raise self._refused(c, "is unassigned in Unicode 3.2")
            if stringprep.in_table_d1(c):
                rand_al = True
            elif stringprep.in_table_d2(c):
                l_cat = True
        # RFC 3454 section 6: right-to-left text must be all right-to-left at its ends
        if rand_al and (
            l_cat or not (stringprep.in_table_d1(text[0]) and stringprep.in_table_d1(text[-1]))
        ):
            raise InvalidIdentifier(f"{self.what} mixes right-to-left and left-to-right text")

    def _refused(self, c: str, why: str) -> InvalidIdentifier:
        if self.show_character:
            return InvalidIdentifier(f"{self.what}: character U+{ord(c):04X} {why}")
        return InvalidIdentifier(f"{self.what} contains a character that {why}")


_NODEPREP = _Profile(
    "user name",
    fold_case=True,
    spaces_to_space=False,
    ascii_prohibited=_ASCII_CONTROLS | frozenset(" \"&'/:<>@"),
)
_RESOURCEPREP = _Profile(
    "resource", fold_case=False, spaces_to_space=False, ascii_prohibited=_ASCII_CONTROLS
)
_SASLPREP = _Profile(
    "the password",
    fold_case=False,
    spaces_to_space=True,
    ascii_prohibited=_ASCII_CONTROLS,
    show_character=False,
)

#: label separators of IDNA (RFC 3490 section 3.1)
_DOTS = re.compile("[.\u3002\uff0e\uff61]")
#: ASCII refused in host names (STD 3: only letters, digits and hyphens)
_STD3_PROHIBITED = frozenset(chr(n) for n in range(0x80)) - frozenset(
    "-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


def _label(label: str) -> str:
    if label.isascii():
        prepared = label.lower()
    else:
        try:
            prepared = idna.nameprep(label)
        except UnicodeError as e:
            raise InvalidIdentifier(f"host: {e}") from None
    if not prepared:
        raise InvalidIdentifier("host has an empty label")
    if not _STD3_PROHIBITED.isdisjoint(prepared):
        bad = next(c for c in prepared if c in _STD3_PROHIBITED)
        raise InvalidIdentifier(f"host: character U+{ord(bad):04X} is not allowed")
    if prepared[0] == "-" or prepared[-1] == "-":
        raise InvalidIdentifier("host: a label starts or ends with '-'")
    return prepared


# -- identifiers ----------------------------------------------------------------------------------


def nodeprep(user: str) -> str:
    """``user`` prepared as a JID's local part (``Alice`` → ``alice``); never empty."""
    _check_length(user, MAX_PART_BYTES, "user name")
    prepared = _NODEPREP.prepare(user)
    if not prepared:
        raise InvalidIdentifier("user name is empty")
    _check_length(prepared, MAX_PART_BYTES, "user name")
    return prepared


def nameprep(host: str) -> str:
    """``host`` prepared as a JID's domain part (``LocalHost`` → ``localhost``).

    Every label must be non-empty: ``a..b``, ``.a`` and ``a.`` are refused.
    """
    _check_length(host, MAX_PART_BYTES, "host")
    if not host:
        raise InvalidIdentifier("host is empty")
    prepared = ".".join(_label(label) for label in _DOTS.split(host))
    _check_length(prepared, MAX_PART_BYTES, "host")
    return prepared


def resourceprep(resource: str) -> str:
    """``resource`` prepared as a JID's resource part (case is kept); never empty."""
    _check_length(resource, MAX_PART_BYTES, "resource")
    prepared = _RESOURCEPREP.prepare(resource)
    if not prepared:
        raise InvalidIdentifier("resource is empty")
    _check_length(prepared, MAX_PART_BYTES, "resource")
    return prepared


def prepare_account(user: str, host: str) -> tuple[str, str]:
    """``(user, host)`` of an account, both prepared."""
    return nodeprep(user), nameprep(host)


def prepare_jid_parts(user: str | None, host: str, resource: str | None = None) -> JIDParts:
    """A JID's parts, prepared; ``None`` (or ``""``) for an absent user or resource."""
    return (
        nodeprep(user) if user else None,
        nameprep(host),
        resourceprep(resource) if resource else None,
    )


def prepare_jid(text: str) -> JIDParts:
    """``user@host/resource`` (user and resource optional) split and prepared.

    The user part ends at the first ``@`` before the first ``/``; an ``@``
    after that belongs to the resource.  A separator with nothing after or
    before it (``@host``, ``host/``) is refused.
    """
    if len(text) > 3 * MAX_PART_BYTES + 2:
        raise InvalidIdentifier(f"JID is longer than {3 * MAX_PART_BYTES + 2} characters")
    bare, slash, resource = text.partition("/")
    user, at, host = bare.partition("@")
    if not at:
        user, host = "", bare
    elif not user:
        raise InvalidIdentifier("JID has an empty user part before '@'")
    if slash and not resource:
        raise InvalidIdentifier("JID has an empty resource after '/'")
    return prepare_jid_parts(user, host, resource)


# -- passwords ------------------------------------------------------------------------------------


def prepare_password(password: str, max_bytes: int = DEFAULT_MAX_PASSWORD_BYTES) -> str:
    """``password`` after SASLprep (RFC 4013), as stored and as compared.

    Non-ASCII spaces become U+0020, soft hyphens and other invisible
    characters go, NFKC applies; control characters (NUL included), private
    use, surrogates, unassigned code points and badly mixed right-to-left
    text are refused.  An empty result is returned as is: whether an empty
    password is acceptable is the caller's decision.

    Keys stored before passwords were prepared were computed from the raw
    UTF-8 text.  SASLprep leaves printable ASCII (and any text already in
    NFKC with nothing to map) unchanged, so those keys still verify and no
    migration is needed; a password SASLprep changes must be set again.
    """
    _check_length(password, max_bytes, "the password")
    prepared = _SASLPREP.prepare(password)
    # NFKC can lengthen text (U+FDFA becomes 18 characters)
    _check_length(prepared, max_bytes, "the password")
    return prepared
