"""Last activity, private storage and vCard commands, on SQLite and PostgreSQL."""

from __future__ import annotations

from functools import partial

from twisted.internet.defer import DeferredList, ensureDeferred

from gateway.backends.embedded.store import Tx
from gateway.backends.embedded.xmltext import XmlError, parse_element
from gateway.engine.errors import ArgumentOutOfRange, CommandFailed
from tests.backends.embedded.cases import HOST, Mixin, PostgresCase, SQLiteCase

NOTES = "<storage xmlns='storage:rosternotes'><note jid='a@b'>hi</note></storage>"


def test_xml_parser_refuses_entities_and_doctypes() -> None:
    """Stored XML may not declare a DOCTYPE or entities; malformed text is refused."""
    for text in (
        '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        "<x>unclosed",
        "<a/><b/>",
        "",
    ):
        try:
            parse_element(text)
        except XmlError:
            continue
        raise AssertionError(f"accepted {text!r}")


def _count(tx: Tx, table: str) -> int:
    return int(tx.scalar(f"SELECT COUNT(*) FROM {table}"))


class PersonalTests(Mixin):
    # -- last activity --------------------------------------------------------------------------

    async def test_last_activity(self) -> None:
        """set_last records time and status; get_last gives them back as XEP-0082 time."""
        await self.register("bob")
        assert await self.call("set_last", user="bob", host=HOST, timestamp=1500045311, status="Zz")
        assert await self.call("get_last", user="bob", host=HOST) == (
            "2017-07-14T15:15:11Z",
            "Zz",
        )
        await self.call("set_last", user="bob", host=HOST, timestamp=1500045312, status="")
        assert await self.call("get_last", user="bob", host=HOST) == ("2017-07-14T15:15:12Z", "")

    async def test_impossible_times_are_refused_and_stored_ones_still_read(self) -> None:
        """set_last refuses times no date shows; a far-future time already stored still reads."""
        await self.register("bob")
        for timestamp in (10**17, 10**30, -1):
            error = await self.fails(
                "set_last", user="bob", host=HOST, timestamp=timestamp, status="x"
            )
            assert isinstance(error, ArgumentOutOfRange), (timestamp, error)
        assert await self.store.read(partial(_count, table="last_activity")) == 0
        await self.store.write(
            lambda tx: tx.execute(
                "INSERT INTO last_activity (host, username, seen_at, status) VALUES (?, ?, ?, ?)",
                (HOST, "bob", 10**17, "old"),
            )
        )
        assert await self.call("get_last", user="bob", host=HOST) == (
            "9999-12-31T23:59:59Z",
            "old",
        )
        await self.call("ban_account", user="bob", host=HOST, reason="spam")
        details = dict(await self.call("get_ban_details", user="bob", host=HOST))
        assert details["lastdate"] == "9999-12-31T23:59:59Z"

    async def test_last_activity_not_found(self) -> None:
        """Nothing recorded: the current time and NOT FOUND; unknown accounts cannot be set."""
        await self.register("bob")
        assert await self.call("get_last", user="bob", host=HOST) == (
            "2023-11-14T22:13:20Z",
            "NOT FOUND",
        )
        error = await self.fails("set_last", user="ghost", host=HOST, timestamp=1, status="")
        assert (error.code, error.message) == ("not_found", "unknown_user")
        error = await self.fails("get_last", user="bob", host="nowhere.org")
        assert error.message == "Unknown virtual host"

    # -- private storage ------------------------------------------------------------------------

    async def test_private_round_trip(self) -> None:
        """private_set stores an element by namespace; private_get returns it in a query."""
        await self.register("bob")
        assert await self.call("private_set", user="bob", host=HOST, element=NOTES) is True
        text = await self.call(
            "private_get", user="bob", host=HOST, element="storage", ns="storage:rosternotes"
        )
        query = parse_element(text)
        assert query.tag == "{jabber:iq:private}query"
        [storage] = list(query)
        assert storage.tag == "{storage:rosternotes}storage"
        assert storage[0].get("jid") == "a@b" and storage[0].text == "hi"

    async def test_private_replace_and_empty(self) -> None:
        """A second set replaces the namespace's element; nothing stored gives an empty one."""
        await self.register("bob")
        await self.call("private_set", user="bob", host=HOST, element=NOTES)
        await self.call(
            "private_set", user="bob", host=HOST, element="<storage xmlns='storage:rosternotes'/>"
        )
        got = await self.call(
            "private_get", user="bob", host=HOST, element="storage", ns="storage:rosternotes"
        )
        assert len(parse_element(got)[0]) == 0
        empty = await self.call(
            "private_get", user="bob", host=HOST, element="prefs", ns="urn:example:prefs"
        )
        assert (
            empty == "<query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query>"
        )

    async def test_private_set_failures(self) -> None:
        """Malformed XML, a missing namespace or a missing account are refused."""
        await self.register("bob")
        for element, text in (
            ("<storage", "not well-formed"),
            ("<storage/>", "namespace"),
            ("<query xmlns='jabber:iq:private'/>", "namespace"),
        ):
            error = await self.fails("private_set", user="bob", host=HOST, element=element)
            assert isinstance(error, CommandFailed) and text in error.message
        error = await self.fails("private_set", user="ghost", host=HOST, element=NOTES)
        assert error.message == "unknown_user"

    # -- vCards ---------------------------------------------------------------------------------

    async def test_vcard_fields(self) -> None:
        """set_vcard/get_vcard and set_nickname work on single fields."""
        await self.register("bob")
        assert await self.call("set_vcard", user="bob", host=HOST, name="FN", content="Bob B")
        assert await self.call("set_nickname", user="bob", host=HOST, nickname="bobby")
        assert await self.call("get_vcard", user="bob", host=HOST, name="FN") == "Bob B"
        assert await self.call("get_vcard", user="bob", host=HOST, name="NICKNAME") == "bobby"
        await self.call("set_vcard", user="bob", host=HOST, name="FN", content="Robert")
        assert await self.call("get_vcard", user="bob", host=HOST, name="FN") == "Robert"

    async def test_vcard_subfields(self) -> None:
        """set_vcard2 and set_vcard2_multi fill subfields; the get variants read them."""
        await self.register("bob")
        await self.call(
            "set_vcard2", user="bob", host=HOST, name="N", subname="GIVEN", content="Bob"
        )
        await self.call(
            "set_vcard2", user="bob", host=HOST, name="N", subname="FAMILY", content="Builder"
        )
        await self.call(
            "set_vcard2_multi",
            user="bob",
            host=HOST,
            name="ORG",
            subname="ORGUNIT",
            contents=["Sales", "Support"],
        )
        got = await self.call("get_vcard2", user="bob", host=HOST, name="N", subname="FAMILY")
        assert got == "Builder"
        assert await self.call(
            "get_vcard2_multi", user="bob", host=HOST, name="ORG", subname="ORGUNIT"
        ) == ["Sales", "Support"]
        stored = await self.store.read(lambda tx: tx.scalar("SELECT vcard FROM vcards"))
        vcard = parse_element(stored)
        assert vcard.tag == "{vcard-temp}vCard"
        assert [c.tag for c in vcard] == ["{vcard-temp}N", "{vcard-temp}ORG"]

    async def test_vcard_missing(self) -> None:
        """No vCard and no value give ejabberd's two error texts."""
        await self.register("bob")
        error = await self.fails("get_vcard", user="bob", host=HOST, name="FN")
        assert error.message == "error_no_vcard_found"
        await self.call("set_vcard", user="bob", host=HOST, name="FN", content="Bob")
        error = await self.fails("get_vcard2", user="bob", host=HOST, name="N", subname="GIVEN")
        assert error.message == "error_no_value_found_in_vcard"
        error = await self.fails("get_vcard", user="ghost", host=HOST, name="FN")
        assert error.message == "error_no_vcard_found"

    async def test_vcard_failures(self) -> None:
        """Unknown accounts cannot get a vCard; field names must be XML names."""
        error = await self.fails("set_vcard", user="ghost", host=HOST, name="FN", content="x")
        assert (error.code, error.message) == ("not_found", "unknown_user")
        await self.register("bob")
        error = await self.fails("set_vcard", user="bob", host=HOST, name="<bad>", content="x")
        assert "Invalid vCard field name" in error.message

    async def test_concurrent_vcard_updates_keep_every_field(self) -> None:
        """Many different fields written at once all survive (no lost read-modify-write)."""
        await self.register("bob")
        names = [f"X-F{i}" for i in range(30)]
        await DeferredList(
            [
                ensureDeferred(self.call("set_vcard", user="bob", host=HOST, name=n, content=n))
                for n in names
            ],
            fireOnOneErrback=True,
        )
        for name in names:
            assert await self.call("get_vcard", user="bob", host=HOST, name=name) == name

    async def test_unregister_removes_personal_data(self) -> None:
        """Unregistering deletes the account's vCard, private data and last activity."""
        await self.register("bob")
        await self.call("set_vcard", user="bob", host=HOST, name="FN", content="Bob")
        await self.call("private_set", user="bob", host=HOST, element=NOTES)
        await self.call("set_last", user="bob", host=HOST, timestamp=5, status="x")
        await self.call("unregister", user="bob", host=HOST)
        for table in ("vcards", "private_storage", "last_activity"):
            count = await self.store.read(partial(_count, table=table))
            assert count == 0, table


class TestPersonalSQLite(PersonalTests, SQLiteCase):
    pass


class TestPersonalPostgres(PersonalTests, PostgresCase):
    pass
