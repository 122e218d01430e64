"""Checking JSON values against the schemas of an OpenAPI document."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

__all__ = ["is_valid", "response_schema", "validate"]


def _validator(schema: dict[str, Any], document: dict[str, Any] | None) -> Draft202012Validator:
    # "#/components/..." references resolve against the root: put the document's there
    root = {**schema, "components": document["components"]} if document else schema
    return Draft202012Validator(root)


def validate(value: Any, schema: dict[str, Any], document: dict[str, Any] | None = None) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``value`` fits ``schema``."""
    _validator(schema, document).validate(value)


def is_valid(value: Any, schema: dict[str, Any], document: dict[str, Any] | None = None) -> bool:
    """Whether ``value`` fits ``schema``."""
    return bool(_validator(schema, document).is_valid(value))


def response_schema(document: dict[str, Any], path: str, status: int) -> dict[str, Any]:
    """The JSON schema of the answer with ``status`` to ``POST path``, references followed."""
    response = document["paths"][path]["post"]["responses"][str(status)]
    if "$ref" in response:
        name = response["$ref"].rpartition("/")[2]
        response = document["components"]["responses"][name]
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema
