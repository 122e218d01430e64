"""Calls are translated between the caller's API profile and the upstream's, both ways.

- A 24.12-profile client through the gateway to ejabberd 23.01: 24.12 arguments
  (``set_room_affiliation`` v3's user and host, ``add_rosteritem``'s list of groups) reach
  ejabberd as its 23.01 arguments, and a command 23.01 does not have is an unknown command.
- A 23.01-profile client through the gateway to a 24.12 upstream: Debian ships no ejabberd
  24.12, so the upstream is a second gateway, embedded, whose ``/api`` speaks 24.12 (our own
  tested 24.12 emulation).  Its answers must come back 23.01-shaped: exactly what that second
  gateway's own 23.01 listeners answer to the same call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from gateway.engine.errors import ERROR_TABLE
from tests.compat.harness import ApiClient, XmlRpcClient
from tests.integration import daemon
from tests.integration.upstream.harness import (
    ADMIN,
    ADMIN_AUTH,
    ADMIN_PASSWORD,
    MUC_SERVICE,
    VHOST,
    Front,
    ejabberd_upstream,
    running_gateway,
)

H = VHOST


@pytest.fixture(scope="module")
def modern(front: Front, tmp_path_factory: pytest.TempPathFactory) -> Iterator[daemon.Daemon]:
    """A gateway whose listeners speak 24.12, in front of the package's ejabberd 23.01."""
    workdir = tmp_path_factory.mktemp("upstream-2412-client")
    upstream = ejabberd_upstream(front.ejabberd, api_profile="auto", timeout=10)
    with running_gateway(workdir, upstream=upstream, profile="24.12", stanzas="upstream") as gw:
        yield gw


def test_set_room_affiliation_v3_reaches_ejabberd_2301(front: Front, modern: daemon.Daemon) -> None:
    """set_room_affiliation v3 (room, service, user, host) from a 24.12 client sets the
    affiliation in ejabberd 23.01 (whose command takes name, service and a JID), over /api
    and XML-RPC."""
    api, xmlrpc = ApiClient(modern.http_port), XmlRpcClient(modern.xmlrpc_port, path="/")
    front.ejabberd.ctl("create_room", "affairs", MUC_SERVICE, H)
    for user in ("gina", "hugo"):
        front.ejabberd.register(user, f"{user}-secret")
    args = {"room": "affairs", "service": MUC_SERVICE, "user": "gina", "host": H}
    answer = api.call("set_room_affiliation/v3", {**args, "affiliation": "admin"}, ADMIN_AUTH)
    assert answer.status == 200 and answer.body == 0, answer.show()
    answer = xmlrpc.call(
        "set_room_affiliation", ({**args, "user": "hugo", "affiliation": "member"},), ADMIN_AUTH
    )
    assert answer.kind == "value", answer.show()
    seen = front.ejabberd_api.call(
        "get_room_affiliations", {"name": "affairs", "service": MUC_SERVICE}, ADMIN_AUTH
    )
    assert seen.status == 200, seen.show()
    affiliations = {(a["username"], a["domain"], a["affiliation"]) for a in seen.body}
    assert {("gina", H, "admin"), ("hugo", H, "member")} <= affiliations, seen.show()


def test_roster_groups_list_reaches_ejabberd_2301(front: Front, modern: daemon.Daemon) -> None:
    """add_rosteritem with a list of groups (24.12) puts the contact in every group in
    ejabberd 23.01 (whose command takes one ';'-separated string); the 24.12 client reads
    them back as a list."""
    front.ejabberd.register("ivan", "ivan-secret")
    api = ApiClient(modern.http_port)
    answer = api.call(
        "add_rosteritem",
        {
            "localuser": "ivan",
            "localhost": H,
            "user": ADMIN,
            "host": H,
            "nick": "Boss",
            "groups": ["Work", "Chess"],
            "subs": "both",
        },
        ADMIN_AUTH,
    )
    assert answer.status == 200 and answer.body == 0, answer.show()
    seen = front.ejabberd.ctl("get_roster", "ivan", H)
    assert seen.startswith(f"{ADMIN}@{H}\tBoss\tboth\t"), seen
    assert {"Work", "Chess"} <= set(seen.replace(";", "\t").split()), seen
    answer = api.call("get_roster", {"user": "ivan", "host": H}, ADMIN_AUTH)
    assert answer.status == 200, answer.show()
    [contact] = answer.body
    assert contact["jid"] == f"{ADMIN}@{H}" and sorted(contact["groups"]) == ["Chess", "Work"]


def test_inexpressible_call_is_refused_clearly(front: Front, modern: daemon.Daemon) -> None:
    """A group name holding ';' cannot be said in 23.01's one-string group list: the 24.12
    client gets the "not supported" error naming the reason, and ejabberd is not called."""
    front.ejabberd.register("kurt", "kurt-secret")
    args = {
        "localuser": "kurt",
        "localhost": H,
        "user": ADMIN,
        "host": H,
        "nick": "Boss",
        "groups": ["Work;Play"],
        "subs": "both",
    }
    answer = ApiClient(modern.http_port).call("add_rosteritem", args, ADMIN_AUTH)
    refused = ERROR_TABLE["not_supported"]
    assert answer.status == refused.http_status, answer.show()
    assert "23.01" in answer.body["message"] and "Work;Play" in answer.body["message"]
    answer = XmlRpcClient(modern.xmlrpc_port, path="/").call("add_rosteritem", (args,), ADMIN_AUTH)
    assert answer.kind == "fault" and answer.status == refused.xmlrpc_fault, answer.show()
    assert front.ejabberd.ctl("get_roster", "kurt", H) == ""


def test_auto_profile_found_2301(modern: daemon.Daemon) -> None:
    """With ``api_profile: auto`` the gateway found ejabberd 23.01's profile and says so in
    ``status``."""
    done = modern.ctl("status")
    assert done.returncode == 0, done
    assert "API profile 23.01" in done.stdout, done.stdout


def test_command_missing_upstream_is_unknown(front: Front, modern: daemon.Daemon) -> None:
    """get_room_history (24.12 only) called by a 24.12 client on an ejabberd 23.01 answers
    the unknown-command error of the caller's dialect."""
    unknown = ERROR_TABLE["unknown_command"]
    args = {"room": "affairs", "service": MUC_SERVICE}
    answer = ApiClient(modern.http_port).call("get_room_history", args, ADMIN_AUTH)
    assert answer.status == unknown.http_status, answer.show()
    answer = XmlRpcClient(modern.xmlrpc_port, path="/").call(
        "get_room_history", (args,), ADMIN_AUTH
    )
    assert answer.kind == "fault" and answer.status == unknown.xmlrpc_fault, answer.show()


# -- a 23.01 client in front of a 24.12 upstream ---------------------------------------------


@dataclass(frozen=True)
class Chain:
    """The 23.01 gateway (``legacy``) whose upstream is the embedded 24.12 gateway (``modern``).

    ``modern_api_2301`` and ``modern_xmlrpc_2301`` are the embedded gateway's own 23.01
    listeners, the reference for what a 23.01 client must see.
    """

    legacy: daemon.Daemon
    modern: daemon.Daemon
    legacy_api: ApiClient
    legacy_xmlrpc: XmlRpcClient
    modern_api_2412: ApiClient
    modern_api_2301: ApiClient
    modern_xmlrpc_2301: XmlRpcClient


def _embedded_2412(workdir: Path) -> tuple[daemon.Daemon, int]:
    """Start an embedded gateway: /api 24.12 on its HTTP listener, XML-RPC 23.01 on the
    standalone listener and a third listener with /api on 23.01.  Returns it and that port."""
    http_port, xmlrpc_port, legacy_port = (daemon.free_port() for _ in range(3))
    config = daemon.write_config(workdir, http_port, xmlrpc_port, xmlrpc_profile="23.01")
    data = yaml.safe_load(config.read_text())
    data["listen"][0]["api_profile"] = "24.12"
    data["listen"].append(
        {
            "port": legacy_port,
            "ip": "127.0.0.1",
            "module": "ejabberd_http",
            "api_profile": "23.01",
            "request_handlers": {"/api": "mod_http_api"},
        }
    )
    config.write_text(yaml.safe_dump(data))
    process = daemon.start(config, workdir)
    try:
        daemon.wait_for_http(process, http_port)
    except BaseException:
        daemon.stop(process)
        raise
    return daemon.Daemon(process, config, http_port, xmlrpc_port), legacy_port


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    """The embedded 24.12 gateway with the admin account, and a 23.01 gateway in front of it
    (upstream api_profile auto, auth upstream)."""
    modern_dir = tmp_path_factory.mktemp("upstream-2412")
    modern, legacy_port = _embedded_2412(modern_dir)
    try:
        registered = modern.ctl("register", ADMIN, H, ADMIN_PASSWORD)
        assert registered.returncode == 0, registered.stdout + registered.stderr
        upstream = {
            "url": f"http://127.0.0.1:{modern.http_port}/api",
            "auth": {"user": f"{ADMIN}@{H}", "password": ADMIN_PASSWORD},
            "api_profile": "auto",
            "timeout": 10,
        }
        legacy_dir = tmp_path_factory.mktemp("upstream-2301-client")
        with running_gateway(legacy_dir, upstream=upstream, stanzas="upstream") as legacy:
            yield Chain(
                legacy,
                modern,
                ApiClient(legacy.http_port),
                XmlRpcClient(legacy.xmlrpc_port, path="/"),
                ApiClient(modern.http_port),
                ApiClient(legacy_port),
                XmlRpcClient(modern.xmlrpc_port, path="/"),
            )
    finally:
        daemon.stop(modern.process)


def _state(chain: Chain) -> None:
    """A roster, a shared group and a room, created by 23.01 calls through the chain."""
    calls = [
        ("register", {"user": "jane", "host": H, "password": "jane-secret"}),
        (
            "add_rosteritem",
            {
                "localuser": "jane",
                "localhost": H,
                "user": ADMIN,
                "host": H,
                "nick": "Boss",
                "group": "Work",
                "subs": "both",
            },
        ),
        (
            "srg_create",
            {
                "group": "staff",
                "host": H,
                "label": "Staff",
                "description": "Everyone",
                "display": "staff",
            },
        ),
        ("srg_user_add", {"user": "jane", "host": H, "group": "staff", "grouphost": H}),
        ("create_room", {"name": "hall", "service": MUC_SERVICE, "host": H}),
    ]
    for command, args in calls:
        answer = chain.legacy_api.call(command, args, ADMIN_AUTH)
        assert answer.status == 200, f"{command}: {answer.show()}"


READS = [
    ("get_roster", {"user": "jane", "host": H}),
    ("srg_get_info", {"group": "staff", "host": H}),
    ("get_room_options", {"name": "hall", "service": MUC_SERVICE}),
]


def test_2301_client_gets_2301_shapes_from_a_2412_upstream(chain: Chain) -> None:
    """get_roster, srg_get_info and get_room_options through the 23.01 gateway answer exactly
    what the 24.12 upstream's own 23.01 listeners answer (over /api and XML-RPC), and
    get_roster and srg_get_info differ from the upstream's 24.12 answers, so the gateway did
    translate."""
    _state_once(chain)
    for command, args in READS:
        ours = chain.legacy_api.call(command, args, ADMIN_AUTH)
        reference = chain.modern_api_2301.call(command, args, ADMIN_AUTH)
        assert ours.status == 200 and ours == reference, (
            f"/api {command}\n  23.01 reference: {reference.show()}\n  through: {ours.show()}"
        )
        ours = chain.legacy_xmlrpc.call(command, (args,), ADMIN_AUTH)
        reference = chain.modern_xmlrpc_2301.call(command, (args,), ADMIN_AUTH)
        assert ours.kind == "value" and ours == reference, (
            f"XML-RPC {command}\n  23.01 reference: {reference.show()}\n  through: {ours.show()}"
        )
    for command, args in READS[:2]:
        modern = chain.modern_api_2412.call(command, args, ADMIN_AUTH)
        legacy = chain.legacy_api.call(command, args, ADMIN_AUTH)
        assert modern.status == 200 and modern.body != legacy.body, (command, modern.show())


def test_auto_profile_found_2412(chain: Chain) -> None:
    """With ``api_profile: auto`` the 23.01 gateway found its upstream's 24.12 profile."""
    chain.legacy_api.call("registered_users", {"host": H}, ADMIN_AUTH)
    done = chain.legacy.ctl("status")
    assert done.returncode == 0, done
    assert "API profile 24.12" in done.stdout, done.stdout


def test_2301_writes_land_in_the_2412_upstream(chain: Chain) -> None:
    """What the 23.01 client wrote through the chain is in the upstream, in 24.12 terms."""
    _state_once(chain)
    roster = chain.modern_api_2412.call("get_roster", {"user": "jane", "host": H}, ADMIN_AUTH)
    assert roster.status == 200, roster.show()
    [contact] = [c for c in roster.body if c["jid"] == f"{ADMIN}@{H}"]
    assert contact["groups"] == ["Work"], roster.show()


def _state_once(chain: Chain) -> None:
    answer = chain.modern_api_2412.call("check_account", {"user": "jane", "host": H}, ADMIN_AUTH)
    if answer.body != 0:
        _state(chain)
