"""The OpenAPI 3.1 description of one mod_http_api listener, built from its catalogue.

A document lists every public command as ``POST <mount>/<name>`` with the definition a call
there gets (the newest, or the listener's ``default_version``).  A version document
(``<mount>/v<N>/openapi.json``) lists each command's definition at API version N, on the
paths that ask for it (``<mount>/<name>/v<N>``), leaving out commands that have none.
Documents are static: each is built once per catalogue, version and mount path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import with_policy_args
from gateway.engine.errors import ERROR_TABLE
from gateway.engine.model import CommandDefinition
from gateway.engine.names import LEGACY_PROFILE
from gateway.frontends.apidoc.examples import example_arguments, example_result
from gateway.frontends.apidoc.schemas import (
    ERROR_STATUSES,
    error_schema,
    request_schema,
    result_schema,
    wraps_scalar,
)

__all__ = ["Operation", "api_versions", "openapi_document", "operations"]

_STATUS_TEXT = {
    400: "The request or an argument is wrong, or the command failed",
    401: "No valid credentials",
    403: "The caller may not run this command",
    404: "No such command, or the object named does not exist",
    409: "The object already exists",
    413: "The request body is larger than the listener accepts",
    429: "Too many failed logins from this address: wait Retry-After seconds",
    500: "The command failed on the server",
    501: "The backend cannot run this command",
    503: "A service the command needs is unavailable",
}


@dataclass(frozen=True, slots=True)
class Operation:
    """One command as a caller sees it on one path."""

    #: the definition the call gets, with ``policy: user`` arguments added
    definition: CommandDefinition
    #: the path below the mount point, e.g. ``/get_roster`` or ``/get_roster/v2``
    path: str
    #: every API version the command has in this profile
    versions: tuple[int, ...]
    request: dict[str, Any]
    response: Any


def api_versions(catalogue: Catalogue) -> tuple[int, ...]:
    """The API versions that have a version document: none in 23.01, whose path takes none."""
    if catalogue.profile == LEGACY_PROFILE:
        return ()
    return tuple(sorted({d.version for d in catalogue if not d.internal}))


def operations(catalogue: Catalogue, version: int | None, *, in_path: bool) -> Iterator[Operation]:
    """Each public command's definition at ``version`` (``None``: the newest), sorted by name.

    ``in_path``: the version is asked for in the path (``/<name>/v<N>``) rather than being
    the listener's default.
    """
    legacy = catalogue.profile == LEGACY_PROFILE
    for name in catalogue.names():
        found = catalogue.find(name, version)
        if found is None or found.internal:
            continue
        definition = with_policy_args(found)
        path = f"/{name}/v{version}" if in_path else f"/{name}"
        yield Operation(
            definition,
            path,
            catalogue.versions(name),
            example_arguments(definition),
            example_result(definition, catalogue.profile, legacy=legacy, requested_version=version),
        )


@lru_cache(maxsize=64)
def openapi_document(
    catalogue: Catalogue, version: int | None, mount: str, *, in_path: bool = False
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for calls at ``version`` through a handler at ``mount``.

    Do not change the result: it is shared.
    """
    legacy = catalogue.profile == LEGACY_PROFILE
    wrap = wraps_scalar(legacy=legacy, requested_version=version)
    paths: dict[str, Any] = {}
    for operation in operations(catalogue, version, in_path=in_path):
        paths[operation.path] = {"post": _operation(operation, legacy=legacy, wrap=wrap)}
    title = "ejabberd API (mod_http_api)"
    if in_path:
        title += f", version {version}"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": catalogue.profile,
            "description": (
                f"Every command of the ejabberd {catalogue.profile} API profile, served by "
                "xmpp-api-gateway. Which caller may run which command is decided by the "
                "listener's api_permissions."
            ),
        },
        "servers": [{"url": mount or "/"}],
        "security": [{"basicAuth": []}, {"bearerAuth": []}],
        "tags": [
            {"name": t} for t in sorted({t for p in paths.values() for t in p["post"]["tags"]})
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basicAuth": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "An account's JID and password",
                },
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An OAuth token (oauth_issue_token)",
                },
            },
            "schemas": {"Error": error_schema()},
            "responses": {str(status): _error_response(status) for status in _error_statuses()},
        },
    }


def _error_statuses() -> list[int]:
    return sorted({*ERROR_STATUSES, 413})


def _error_response(status: int) -> dict[str, Any]:
    codes = sorted(
        {
            m.json_code
            for m in ERROR_TABLE.values()
            if m.http_status == status and m.json_code is not None
        }
    )
    description = _STATUS_TEXT.get(status, "Error")
    if codes:
        description += " (error object codes: " + ", ".join(map(str, codes)) + ")"
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _operation(operation: Operation, *, legacy: bool, wrap: bool) -> dict[str, Any]:
    definition = operation.definition
    versions = ", ".join(str(v) for v in operation.versions)
    description = f"API version {definition.version}; versions of this command: {versions}."
    if definition.note:
        description = f"{definition.note[:1].upper()}{definition.note[1:]}. {description}"
    responses: dict[str, Any] = {
        "200": {
            "description": f"Result: {definition.result.render()}",
            "content": {
                "application/json": {
                    "schema": result_schema(definition.result, legacy=legacy, wrap=wrap),
                    "example": operation.response,
                }
            },
        }
    }
    for status in _error_statuses():
        responses[str(status)] = {"$ref": f"#/components/responses/{status}"}
    return {
        "operationId": definition.name,
        "summary": definition.description,
        "description": description,
        "tags": list(definition.tags),
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": request_schema(definition, legacy=legacy),
                    "example": operation.request,
                }
            },
        },
        "responses": responses,
        "x-api-version": definition.version,
    }
