"""The OpenAPI 3.1 documents: valid, complete, and true to what the JSON dialect does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate as validate_spec

from gateway.engine.catalogue import Catalogue
from gateway.engine.coercion import coerce_args
from gateway.engine.dispatch import with_policy_args
from gateway.engine.errors import (
    CommandError,
    Forbidden,
    MissingArgument,
    NotSupported,
    TooManyFailures,
    TypedCommandError,
    Unauthorized,
    UnknownCommand,
)
from gateway.frontends.apidoc.openapi import api_versions, openapi_document
from gateway.frontends.jsonapi.response import encode_error
from tests.frontends.apidoc.helpers import response_schema, validate
from tests.frontends.jsonapi.helpers import ADMIN, make_resource, post

CURRENT = Catalogue.load("24.12")
LEGACY = Catalogue.load("23.01")


def _documents() -> list[tuple[str, Catalogue, int | None, bool]]:
    found: list[tuple[str, Catalogue, int | None, bool]] = [
        ("24.12", CURRENT, None, False),
        ("23.01", LEGACY, 0, False),
        ("24.12 default_version 1", CURRENT, 1, False),
    ]
    found += [(f"24.12 v{v}", CURRENT, v, True) for v in api_versions(CURRENT)]
    return found


DOCUMENTS = _documents()
IDS = [d[0] for d in DOCUMENTS]


@pytest.mark.parametrize(("name", "catalogue", "version", "in_path"), DOCUMENTS, ids=IDS)
def test_valid_openapi(name: str, catalogue: Catalogue, version: int | None, in_path: bool) -> None:
    """Each document is a valid OpenAPI 3.1 document (openapi-spec-validator)."""
    document = openapi_document(catalogue, version, "/api", in_path=in_path)
    assert document["openapi"] == "3.1.0"
    validate_spec(document)


def test_every_public_command_once() -> None:
    """The unversioned document has ``POST /<name>`` for each public command, none internal."""
    for catalogue, version in ((CURRENT, None), (LEGACY, 0)):
        document = openapi_document(catalogue, version, "/api")
        assert sorted(document["paths"]) == [f"/{n}" for n in catalogue.names()]
        assert all(list(item) == ["post"] for item in document["paths"].values())
    internal = [n for n in CURRENT.names(include_internal=True) if n not in CURRENT.names()]
    assert internal  # the catalogue has some, and they stay out
    document = openapi_document(CURRENT, None, "/api")
    assert not any(f"/{n}" in document["paths"] for n in internal)


def test_newest_definition_by_default() -> None:
    """Unversioned, a command is described by its newest definition, or by the default version's."""
    newest = openapi_document(CURRENT, None, "/api")["paths"]["/status_list"]["post"]
    assert newest["x-api-version"] == 3
    assert "jid" in str(newest["responses"]["200"])
    pinned = openapi_document(CURRENT, 1, "/api")["paths"]["/status_list"]["post"]
    assert pinned["x-api-version"] == 0


def test_version_document() -> None:
    """A version document has each command's definition at that version, on ``/<name>/v<N>``."""
    assert api_versions(CURRENT) == (0, 1, 2, 3)
    assert api_versions(LEGACY) == ()  # 23.01 takes no version in the path
    document = openapi_document(CURRENT, 2, "/api", in_path=True)
    for name in CURRENT.names():
        found = CURRENT.find(name, 2)
        path = f"/{name}/v2"
        if found is None:
            assert path not in document["paths"]
            continue
        assert document["paths"][path]["post"]["x-api-version"] == found.version
    assert "/get_ban_details/v2" in document["paths"]
    assert "/get_ban_details/v1" not in openapi_document(CURRENT, 1, "/api", in_path=True)["paths"]


def test_server_is_the_mount_point() -> None:
    """Paths are relative to the handler's mount point, given as the server URL."""
    document = openapi_document(CURRENT, None, "/admin/api")
    assert document["servers"] == [{"url": "/admin/api"}]


def test_security_schemes() -> None:
    """Basic and Bearer authentication are described, and either is asked for."""
    document = openapi_document(CURRENT, None, "/api")
    schemes = document["components"]["securitySchemes"]
    assert {(s["type"], s["scheme"]) for s in schemes.values()} == {
        ("http", "basic"),
        ("http", "bearer"),
    }
    assert document["security"] == [{name: []} for name in schemes]


def test_arguments_and_result() -> None:
    """A command's arguments (with ``policy: user``'s) form the body schema; its result the 200."""
    document = openapi_document(CURRENT, None, "/api")
    post_ = document["paths"]["/get_roster"]["post"]
    body = post_["requestBody"]["content"]["application/json"]["schema"]
    assert list(body["properties"]) == ["user", "host", "server"]
    assert body["required"] == ["user"]
    result = post_["responses"]["200"]["content"]["application/json"]["schema"]
    assert result["type"] == "array"
    assert result["items"]["required"] == ["jid", "nick", "subscription", "pending", "groups"]
    assert post_["tags"] == ["roster"]
    assert post_["summary"] == CURRENT.lookup("get_roster").description


@pytest.mark.parametrize(("name", "catalogue", "version", "in_path"), DOCUMENTS, ids=IDS)
def test_examples_fit(name: str, catalogue: Catalogue, version: int | None, in_path: bool) -> None:
    """Every example request fits its schema and is accepted by the engine; every example
    answer fits the 200 schema."""
    document = openapi_document(catalogue, version, "/api", in_path=in_path)
    for item in document["paths"].values():
        post_ = item["post"]
        media = post_["requestBody"]["content"]["application/json"]
        validate(media["example"], media["schema"])
        definition = with_policy_args(catalogue.lookup(post_["operationId"], version))
        coerce_args(definition, list(media["example"].items()))
        answer = post_["responses"]["200"]["content"]["application/json"]
        validate(answer["example"], answer["schema"])


ERRORS: list[CommandError] = [
    UnknownCommand("nope"),
    MissingArgument("register", "password", []),
    Unauthorized(),
    Forbidden("register"),
    NotSupported("register", "embedded"),
    TooManyFailures(30),
    TypedCommandError("conflict", 10090, "User already exists"),
    TypedCommandError("invalid", 123, "Something is odd"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("legacy", [False, True])
def test_error_bodies_fit(error: CommandError, legacy: bool) -> None:
    """The error body mod_http_api writes for each error fits the response of its status."""
    document = openapi_document(LEGACY if legacy else CURRENT, None, "/api")
    status, body = encode_error(error, legacy=legacy)
    validate(body, response_schema(document, "/register", status), document)


ANSWERED: list[tuple[str, dict[str, Any], int | None, int]] = [
    ("get_roster", {"user": "admin", "host": "localhost"}, None, 200),
    ("get_room_options", {"name": "lobby", "service": "conference.localhost"}, None, 200),
    ("get_last", {"user": "admin", "host": "localhost"}, None, 200),
    ("srg_get_info", {"group": "team", "host": "localhost"}, None, 200),
    ("connected_users_number", {}, None, 200),
    ("connected_users_number", {}, 0, 200),
    ("delete_old_users", {"days": 30}, None, 200),
    ("kick_user", {"user": "admin", "host": "localhost"}, None, 500),
    ("rooms_empty_destroy", {"service": "conference.localhost"}, None, 400),
    ("register", {"user": "x"}, None, 400),
    ("no_such_command", {}, None, 404),
]


@pytest.mark.parametrize(("command", "body", "version", "status"), ANSWERED)
def test_real_answers_fit(
    command: str, body: dict[str, Any], version: int | None, status: int
) -> None:
    """What the real /api resource answers fits the document's response for that status."""
    path = f"/api/{command}" + ("" if version is None else f"/v{version}")
    answer = post(make_resource(), path, body, headers=[ADMIN])
    assert answer.status == status
    in_path = version is not None
    document = openapi_document(CURRENT, version, "/api", in_path=in_path)
    described = path.removeprefix("/api")
    if described not in document["paths"]:
        described = "/register" + ("/v0" if in_path else "")  # errors are the same everywhere
    validate(json.loads(answer.body), response_schema(document, described, status), document)
