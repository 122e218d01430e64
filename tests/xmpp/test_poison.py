"""Which queued stanza a stream error blames (gateway.xmpp.poison)."""

from __future__ import annotations

import pytest

from gateway.xmpp.poison import BLAMED_CONDITIONS, advice, find_culprit
from gateway.xmpp.wire import prepare_outbound

COMPONENT = "rest.localhost"


def queued(*stanzas: str) -> list[tuple[int, str]]:
    """``stanzas`` as the link queues them (pass policy), with ids from 1."""
    return [
        (n, prepare_outbound(text, COMPONENT, "pass")) for n, text in enumerate(stanzas, start=1)
    ]


def test_only_stanza_caused_conditions_blame() -> None:
    """Only invalid-from and improper-addressing can be pinned on a stanza."""
    assert BLAMED_CONDITIONS == {"invalid-from", "improper-addressing"}
    items = queued("<message from='admin@localhost' to='u@localhost'/>", "<presence/>")
    for condition in ("invalid-namespace", "policy-violation", "not-well-formed", "conflict"):
        assert find_culprit(condition, items, COMPONENT) is None


@pytest.mark.parametrize(
    "sender", ["admin@localhost", "x@sub.rest.localhost", "rest.localhost.evil", "localhost"]
)
def test_invalid_from_blames_first_foreign_sender(sender: str) -> None:
    """invalid-from blames the first stanza whose sender is outside the component's domain."""
    items = queued(
        "<message to='u@localhost'><body>own</body></message>",
        "<presence from='Bot@REST.localhost/r' to='u@localhost'/>",
        f"<message id='m1' from='{sender}' to='u@localhost'><body>x</body></message>",
        "<message from='other@localhost' to='u@localhost'/>",
    )
    culprit = find_culprit("invalid-from", items, COMPONENT)
    assert culprit is not None
    assert (culprit.item_id, culprit.kind, culprit.stanza_id, culprit.sender) == (
        3,
        "message",
        "m1",
        sender,
    )
    assert culprit.origin_id  # the link added one when queueing
    assert culprit.target == "u@localhost"


def test_invalid_from_without_foreign_sender_blames_nothing() -> None:
    """When every unconfirmed stanza comes from the component's domain, none is blamed."""
    items = queued("<message to='u@localhost'/>", "<iq type='get' id='q' to='localhost'/>")
    assert find_culprit("invalid-from", items, COMPONENT) is None
    assert find_culprit("invalid-from", [], COMPONENT) is None


@pytest.mark.parametrize(
    ("bad", "target"),
    [("<presence/>", None), ("<presence to=''/>", ""), ("<iq to='a@@b'/>", "a@@b")],
)
def test_improper_addressing_blames_missing_or_bad_to(bad: str, target: str | None) -> None:
    """improper-addressing blames the first stanza with no 'to', an empty one or a non-JID."""
    items = [
        (1, "<message from='admin@localhost' to='u@localhost'/>"),
        (2, bad),
        (3, "<presence/>"),
    ]
    culprit = find_culprit("improper-addressing", items, COMPONENT)
    assert culprit is not None
    assert (culprit.item_id, culprit.target) == (2, target)


def test_unreadable_rows_skipped() -> None:
    """A queue row that is not XML is never blamed; the search goes on past it."""
    items = [(1, "<message"), (2, "<message from='admin@localhost' to='u@localhost'/>")]
    culprit = find_culprit("invalid-from", items, COMPONENT)
    assert culprit is not None and culprit.item_id == 2


def test_advice() -> None:
    """invalid-from advises the rewrite policy; improper-addressing a 'to'."""
    assert "from: rewrite" in advice("invalid-from")
    assert "'to'" in advice("improper-addressing")
    assert advice("conflict") == ""
