"""Length checks and stringprep of users, hosts, resources, JIDs and passwords."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from twisted.words.protocols.jabber import xmpp_stringprep as twisted_prep

from gateway.engine import identifiers
from gateway.engine.identifiers import (
    MAX_PART_BYTES,
    InvalidIdentifier,
    nameprep,
    nodeprep,
    prepare_account,
    prepare_jid,
    prepare_jid_parts,
    prepare_password,
    resourceprep,
)

#: any text at all, lone surrogates included (JSON and XML-RPC decoders can produce them)
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)
#: text made mostly of the characters stringprep treats specially
TRICKY = st.text(
    st.sampled_from(
        "aAzZ09.-@/:<>&'\" \t\x00\x7f\u00a0\u00ad\u200b\u3002\uff0e\u0627\u05d0\u0301"
        "\u2168\u00aa\ufb01\ue000\ud800\U000e0001\u0221\u1806\u00df\u0130"
    ),
    max_size=12,
)
TEXT = st.one_of(ANY_TEXT, TRICKY)

PREPARERS = [nodeprep, nameprep, resourceprep, prepare_jid, prepare_password]


def _twisted(profile: object, text: str) -> str | None:
    """Twisted's preparation of ``text``, ``None`` when it refuses (or crashes on) it."""
    try:
        prepared: str = profile.prepare(text)  # type: ignore[attr-defined]
    except Exception:
        return None
    return prepared


def _ours(function: object, text: str) -> str | None:
    try:
        prepared: str = function(text)  # type: ignore[operator]
    except InvalidIdentifier:
        return None
    return prepared


@pytest.mark.parametrize("prepare", PREPARERS, ids=lambda f: f.__name__)
@given(text=TEXT)
@example(text="a..b")
@example(text=".")
@example(text="\u200b")
@example(text="\ud800")
def test_only_invalid_identifier_is_raised(prepare: object, text: str) -> None:
    """Any text is prepared or refused with InvalidIdentifier; nothing else is raised."""
    try:
        result = prepare(text)  # type: ignore[operator]
    except InvalidIdentifier as e:
        assert isinstance(e, ValueError) and str(e)
    else:
        assert isinstance(result, str | tuple)


@given(text=TEXT)
def test_nodeprep_agrees_with_twisted(text: str) -> None:
    """nodeprep gives Twisted's result, refusing only where Twisted does or the result is empty."""
    expected = _twisted(twisted_prep.nodeprep, text)
    assert _ours(nodeprep, text) == (expected or None)


@given(text=TEXT)
def test_resourceprep_agrees_with_twisted(text: str) -> None:
    """resourceprep gives Twisted's result, refusing only where Twisted does or it is empty."""
    expected = _twisted(twisted_prep.resourceprep, text)
    assert _ours(resourceprep, text) == (expected or None)


@given(text=TEXT)
@example(text="a.")
def test_nameprep_agrees_with_twisted(text: str) -> None:
    """nameprep gives Twisted's result but refuses empty labels, which Twisted crashes on."""
    ours = _ours(nameprep, text)
    labels = identifiers._DOTS.split(text)
    if not all(labels):
        assert ours is None
        return
    expected = _twisted(twisted_prep.nameprep, text)
    if expected is not None and not all(expected.split(".")):
        expected = None  # a label that prepared to nothing
    assert ours == expected


@pytest.mark.parametrize(
    ("function", "raw", "prepared"),
    [
        (nodeprep, "Alice", "alice"),
        (nodeprep, "ÉLAN", "élan"),
        (nodeprep, "Stra\u00dfe", "strasse"),
        (nameprep, "LocalHost", "localhost"),
        (nameprep, "Ex\u3002COM", "ex.com"),
        (resourceprep, "My Phone", "My Phone"),
    ],
)
def test_prepared_forms(function: object, raw: str, prepared: str) -> None:
    """Users and hosts are case-folded and normalised; resources keep their case."""
    assert function(raw) == prepared  # type: ignore[operator]


@pytest.mark.parametrize(
    ("function", "raw"),
    [
        (nodeprep, ""),
        (nodeprep, "a@b"),
        (nodeprep, "a b"),
        (nodeprep, "\u00ad"),  # maps to nothing
        (nameprep, ""),
        (nameprep, "a..b"),
        (nameprep, "."),
        (nameprep, ".a"),
        (nameprep, "a."),
        (nameprep, "-a.b"),
        (nameprep, "a_b"),
        (nameprep, "a\u200b.b\u200b..c"),
        (resourceprep, ""),
        (resourceprep, "a\x00"),
    ],
)
def test_refused(function: object, raw: str) -> None:
    """Empty parts, empty host labels and forbidden characters raise InvalidIdentifier."""
    with pytest.raises(InvalidIdentifier):
        function(raw)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("function", "what"),
    [(nodeprep, "_NODEPREP"), (resourceprep, "_RESOURCEPREP")],
)
def test_length_checked_before_preparation(
    monkeypatch: pytest.MonkeyPatch, function: object, what: str
) -> None:
    """A part past 1023 UTF-8 bytes is refused without being prepared at all."""

    class Exploding:
        def prepare(self, text: str) -> str:
            raise AssertionError("prepared before the length check")

    monkeypatch.setattr(identifiers, what, Exploding())
    for text in ("a" * (MAX_PART_BYTES + 1), "é" * 512, "a" * 1_000_000):
        with pytest.raises(InvalidIdentifier, match="longer than 1023 bytes"):
            function(text)  # type: ignore[operator]


def test_host_length_checked_before_preparation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host past 1023 UTF-8 bytes is refused without any label being prepared."""

    def exploding(label: str) -> str:
        raise AssertionError("prepared before the length check")

    monkeypatch.setattr(identifiers, "_label", exploding)
    with pytest.raises(InvalidIdentifier, match="longer than 1023 bytes"):
        nameprep("a." * 600)


def test_lengths_are_utf8_bytes() -> None:
    """The limit counts UTF-8 bytes: 1023 ASCII letters pass, 512 two-byte letters do not."""
    assert nodeprep("a" * MAX_PART_BYTES) == "a" * MAX_PART_BYTES
    assert resourceprep("é" * 511) == "é" * 511
    with pytest.raises(InvalidIdentifier):
        resourceprep("é" * 512)


def test_prepare_jid() -> None:
    """JIDs split at the first '@' before the first '/'; empty parts beside a separator fail."""
    assert prepare_jid("Bob@LocalHost/Res") == ("bob", "localhost", "Res")
    assert prepare_jid("localhost") == (None, "localhost", None)
    assert prepare_jid("host/a@b") == (None, "host", "a@b")
    for bad in ("@localhost", "bob@", "bob@localhost/", "", "a@b@c", "a" * 4000):
        with pytest.raises(InvalidIdentifier):
            prepare_jid(bad)
    assert prepare_jid_parts("Bob", "LocalHost", "") == ("bob", "localhost", None)
    assert prepare_account("Bob", "LocalHost") == ("bob", "localhost")


# -- passwords ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "prepared"),
    [
        # RFC 4013 section 3's examples
        ("I\u00adX", "IX"),
        ("user", "user"),
        ("USER", "USER"),
        ("\u00aa", "a"),
        ("\u2168", "IX"),
        # non-ASCII spaces become spaces
        ("pass\u00a0word", "pass word"),
        ("", ""),
    ],
)
def test_saslprep(raw: str, prepared: str) -> None:
    """Passwords are SASLprepped as RFC 4013 says."""
    assert prepare_password(raw) == prepared


@pytest.mark.parametrize(
    "raw",
    ["adminpass\x00", "\x07", "a\x7f", "\ue000", "\ud800", "\u0627\u0031", "\U000e0001"],
    ids=["nul", "bel", "del", "private", "surrogate", "bidi", "tag"],
)
def test_saslprep_refuses(raw: str) -> None:
    """Control characters (NUL included), private use, surrogates, bad bidi and tags are refused."""
    with pytest.raises(InvalidIdentifier) as info:
        prepare_password(raw)
    assert raw not in str(info.value)


@given(password=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=64))
def test_printable_ascii_passwords_unchanged(password: str) -> None:
    """SASLprep leaves printable ASCII as it is, so keys stored before it still verify."""
    assert prepare_password(password) == password


@given(password=TEXT)
def test_saslprep_is_idempotent(password: str) -> None:
    """A prepared password prepares to itself (extauth hands over prepared passwords)."""
    try:
        once = prepare_password(password)
    except InvalidIdentifier:
        return
    assert prepare_password(once) == once


def test_password_length(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords past the configured maximum are refused before SASLprep runs."""
    assert prepare_password("x" * 16, max_bytes=16) == "x" * 16

    class Exploding:
        def prepare(self, text: str) -> str:
            raise AssertionError("prepared before the length check")

    monkeypatch.setattr(identifiers, "_SASLPREP", Exploding())
    for password in ("x" * 17, "é" * 9, "x" * 1_000_000):
        with pytest.raises(InvalidIdentifier, match="longer than 16 bytes"):
            prepare_password(password, max_bytes=16)


def test_password_length_after_preparation() -> None:
    """A password NFKC lengthens past the maximum is refused too."""
    with pytest.raises(InvalidIdentifier, match="longer than"):
        prepare_password("\ufdfa", max_bytes=10)
