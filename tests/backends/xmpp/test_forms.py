"""Data forms, api-commands value encoding, and ad-hoc sessions that go wrong."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from twisted.internet.defer import ensureDeferred
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.xmpp.adhoc import AdhocClient
from gateway.backends.xmpp.api_nodes import decode_result, encode_argument
from gateway.backends.xmpp.forms import read_form, submit_form
from gateway.backends.xmpp.requests import IqRequests, StanzaError
from gateway.engine.errors import CommandFailed
from gateway.engine.model import ResTuple
from gateway.engine.types import Param, Type
from tests.backends.xmpp.fake_server import HOST, FakeChannel, FakeServer, Refuse, Reply, form_xml

# XML text: no control characters XML 1.0 cannot carry, no surrogates
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=30,
)


class FormTests(SynchronousTestCase):
    """What we submit is what a server reads back."""

    @given(
        st.dictionaries(
            st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True), st.lists(TEXT, max_size=4)
        )
    )
    def test_round_trip(self, values: dict[str, list[str]]) -> None:
        """Every field's values survive submit_form, serialisation and read_form, in order."""
        element = etree.fromstring(etree.tostring(submit_form(values, "urn:x")))
        form = read_form(element)
        self.assertEqual(form.type, "submit")
        self.assertEqual(form.form_type, "urn:x")
        for var, field_values in values.items():
            found = form.get(var)
            assert found is not None
            self.assertEqual(list(found.values), field_values)


LIST_OF_TEXT = Type("list", (Param("user", Type("string")),))
LAST = Type("tuple", (Param("timestamp", Type("string")), Param("status", Type("string"))))
COUNTED = Type("tuple", (Param("name", Type("string")), Param("count", Type("integer"))))


class ApiValueTests(SynchronousTestCase):
    """Values as mod_adhoc_api writes and reads them."""

    def test_encode(self) -> None:
        """Lists are one value per element, tuples joined by colons, integers as text."""
        self.assertEqual(encode_argument(["a", "b"], LIST_OF_TEXT), ["a", "b"])
        self.assertEqual(encode_argument(5, Type("integer")), ["5"])
        self.assertEqual(encode_argument(("x", 3), COUNTED), ["x:3"])
        self.assertEqual(encode_argument({"name": "x", "count": 3}, COUNTED), ["x:3"])

    def test_decode(self) -> None:
        """Results come back as the embedded store's Python values."""
        self.assertEqual(decode_result(["12"], Type("integer")), 12)
        self.assertIs(decode_result(["0"], Type("rescode")), True)
        self.assertIs(decode_result(["1"], Type("rescode")), False)
        self.assertEqual(decode_result(["Done", "ok"], Type("restuple")), ResTuple("Done\nok"))
        self.assertEqual(decode_result(["a", "b"], LIST_OF_TEXT), ["a", "b"])
        self.assertEqual(decode_result(["when : why : more"], LAST), ("when", "why : more"))
        self.assertEqual(decode_result(["n : 4"], COUNTED), ("n", 4))
        with self.assertRaises(CommandFailed):
            decode_result(["many"], Type("integer"))

    @given(st.lists(st.from_regex(r"[a-z0-9@.]{1,12}", fullmatch=True), max_size=5))
    def test_list_round_trip(self, users: list[str]) -> None:
        """A list of strings encodes and decodes to itself."""
        self.assertEqual(decode_result(encode_argument(users, LIST_OF_TEXT), LIST_OF_TEXT), users)


class SessionTests(SynchronousTestCase):
    """Ad-hoc sessions: notes, stages, refusals."""

    def client(self, server: FakeServer) -> AdhocClient:
        clock = MemoryReactorClock()
        channel = FakeChannel(server, clock)
        channel.connected = True
        requests = IqRequests(channel, HOST, clock, timeout=5, max_in_flight=4)
        return AdhocClient(requests, HOST)

    def session(self, client: AdhocClient, node: str, fill: Any) -> Any:
        return ensureDeferred(client.run(node, fill))

    def test_multi_stage(self) -> None:
        """Each executing answer is filled and submitted under the session id until completed."""
        server = FakeServer()
        seen: list[Any] = []

        def node(values: Any, state: dict[str, object]) -> Reply:
            seen.append(values)
            step = int(state.get("step", 0))  # type: ignore[call-overload]
            state["step"] = step + 1
            if step < 2:
                return Reply("executing", form_xml("form", [f"<field var='q{step}'/>"]))
            return Reply("completed", notes=[("info", "done")])

        server.nodes["n"] = node
        outcome = self.successResultOf(
            self.session(self.client(server), "n", lambda form: {form.fields[-1].var or "": ["v"]})
        )
        self.assertEqual(outcome.status, "completed")
        self.assertEqual(outcome.info, "done")
        self.assertEqual(
            seen,
            [
                None,
                {"FORM_TYPE": ["http://jabber.org/protocol/admin"], "q0": ["v"]},
                {"FORM_TYPE": ["http://jabber.org/protocol/admin"], "q1": ["v"]},
            ],
        )

    def test_error_note(self) -> None:
        """An error note is the outcome's error."""
        server = FakeServer()
        server.nodes["n"] = lambda values, state: Reply("completed", notes=[("error", "nope")])
        outcome = self.successResultOf(self.session(self.client(server), "n", lambda form: {}))
        self.assertEqual(outcome.error, "nope")

    def test_never_finishing(self) -> None:
        """A server asking form after form is given up and cancelled."""
        server = FakeServer()
        server.nodes["n"] = lambda values, state: Reply("executing", form_xml("form", []))
        failure = self.failureResultOf(
            self.session(self.client(server), "n", lambda form: {}), CommandFailed
        )
        self.assertIn("did not finish", failure.value.message)
        self.assertEqual(len(server.cancelled), 1)

    def test_stanza_error(self) -> None:
        """An IQ error answer is a StanzaError with condition, type and text."""
        server = FakeServer()

        def node(values: Any, state: Any) -> Reply:
            raise Refuse("not-allowed", "cancel", "no")

        server.nodes["n"] = node
        error = self.failureResultOf(
            self.session(self.client(server), "n", lambda form: {}), StanzaError
        )
        self.assertEqual(
            (error.value.condition, error.value.kind, error.value.text),
            ("not-allowed", "cancel", "no"),
        )
