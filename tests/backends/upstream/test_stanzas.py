"""gateway.stanzas: upstream — stanzas are forwarded with the upstream's send_stanza."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree
from twisted.internet.defer import Deferred, fail, succeed
from twisted.python.failure import Failure

from gateway.backends.upstream.stanzas import UpstreamStanzas
from gateway.engine.errors import CommandFailed, Unavailable
from gateway.stanza import check_stanza


class FakeClient:
    """Records calls; answers with ``answer`` (a value or an exception)."""

    def __init__(self, answer: Any = 0) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answer = answer

    def call(
        self, name: str, args: Mapping[str, Any], *, version: int | None = None
    ) -> Deferred[Any]:
        self.calls.append((name, dict(args)))
        if isinstance(self.answer, Exception):
            return fail(self.answer)
        return succeed(self.answer)


def outcome(d: Deferred[Any]) -> Any:
    results: list[Any] = []
    d.addBoth(results.append)
    return results[0]


def stanza(text: str) -> Any:
    return check_stanza(etree.fromstring(text))


def test_a_stanza_is_sent_with_its_from_and_to() -> None:
    """The stanza's own from/to and its XML go to send_stanza; success fires with None."""
    client = FakeClient()
    sink = UpstreamStanzas(client, "localhost")
    text = "<message from='bot@localhost' to='alice@localhost'><body>hi</body></message>"
    assert outcome(sink.submit(stanza(text))) is None
    [(name, args)] = client.calls
    assert name == "send_stanza"
    assert (args["from"], args["to"]) == ("bot@localhost", "alice@localhost")
    assert etree.fromstring(args["stanza"]).findtext("body") == "hi"


def test_a_stanza_without_from_is_sent_from_the_server() -> None:
    """No from: the first served host sends it, as ejabberd's own server JID would."""
    client = FakeClient()
    UpstreamStanzas(client, "localhost").submit(stanza("<message to='alice@localhost'/>"))
    assert client.calls[0][1]["from"] == "localhost"


def test_an_upstream_failure_is_the_callers_failure() -> None:
    """An upstream that is down makes the submission fail; nothing is reported sent."""
    sink = UpstreamStanzas(FakeClient(Unavailable("upstream down")), "localhost")
    result = outcome(sink.submit(stanza("<message to='alice@localhost'/>")))
    assert isinstance(result, Failure) and result.check(Unavailable)


def test_waiting_for_an_iq_answer_is_refused_clearly() -> None:
    """?wait=iq needs the component link; the sink says so instead of pretending."""
    sink = UpstreamStanzas(FakeClient(), "localhost")
    result = outcome(sink.iq(stanza("<iq type='get' to='localhost' id='1'/>"), 5.0))
    assert isinstance(result, Failure) and result.check(CommandFailed)
    assert "component link" in result.value.message
