"""``gateway.log_format``: text (the default) or json, validated and dumped."""

from __future__ import annotations

import textwrap

import pytest

from gateway.config.dump import config_document
from gateway.config.errors import ConfigError
from gateway.config.load import load_config, parse_config
from tests.paths import SHIPPED_CONFIG


def test_default_is_text() -> None:
    """Without the key, and in the shipped file, the log is text."""
    assert parse_config("hosts: [localhost]\n").gateway.log_format == "text"
    assert load_config(str(SHIPPED_CONFIG)).gateway.log_format == "text"


def test_json() -> None:
    """``json`` is accepted and dumped back (dump_config) as written."""
    config = parse_config("hosts: [localhost]\ngateway: {log_format: json}\n")
    assert config.gateway.log_format == "json"
    assert config_document(config)["gateway"]["log_format"] == "json"


def test_other_values_refused() -> None:
    """Anything else is an error naming the key path and the choices."""
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent("hosts: [localhost]\ngateway: {log_format: logfmt}\n"))
    message = str(info.value)
    assert "gateway.log_format" in message
    assert "text, json" in message
