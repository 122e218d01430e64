"""Example calls of a command, in the languages ``gen_*_doc_for_commands`` accept.

ejabberd's generators take ``examples`` as a comma-separated list of
``java``, ``perl``, ``xmlrpc`` and ``json``; the gateway adds ``ctl`` (a
``gatewayctl`` line).  Argument values are made up from each argument's
name and type: a few well-known names get realistic values, other text
arguments get their own name.  Addresses are those of ``conf/gateway.yml``.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from gateway.engine.errors import CommandFailed
from gateway.engine.model import CommandDefinition
from gateway.engine.types import Param, Type

__all__ = ["LANGUAGES", "Example", "example", "parse_languages", "sample_value"]

#: every language an example can be written in, in the order documents show them
LANGUAGES: tuple[str, ...] = ("json", "xmlrpc", "java", "perl", "ctl")

_API_URL = "http://127.0.0.1:5280/api"
_XMLRPC_URL = "http://127.0.0.1:4560/"
_AUTH = {"user": "admin", "server": "localhost", "password": "secret"}

#: values for arguments whose name says what they hold
_TEXT_SAMPLES = {
    "user": "alice",
    "localuser": "alice",
    "host": "localhost",
    "localhost": "localhost",
    "localserver": "localhost",
    "server": "localhost",
    "password": "secret",
    "newpass": "n3w-secret",
    "jid": "alice@localhost",
    "room": "room1",
    "service": "conference.localhost",
    "nick": "Alice",
    "file": "out.txt",
}
_INTEGER_SAMPLES = {"days": 30, "port": 5222, "priority": 0}


@dataclass(frozen=True, slots=True)
class Example:
    """One example: a title, the highlighting name of its code and the code."""

    title: str
    syntax: str
    code: str


def parse_languages(text: str) -> tuple[str, ...]:
    """The languages ``text`` (``java,json``) names, in :data:`LANGUAGES` order.

    Raises:
        CommandFailed: a name is not one of :data:`LANGUAGES`.
    """
    wanted = {part.strip().lower() for part in text.split(",")} - {""}
    unknown = sorted(wanted - set(LANGUAGES))
    if unknown:
        raise CommandFailed(
            f"Unknown example language {', '.join(unknown)}; expected some of "
            f"{', '.join(LANGUAGES)}, separated by commas"
        )
    return tuple(language for language in LANGUAGES if language in wanted)


def sample_value(param: Param) -> Any:
    """A made-up value for ``param``: ``int``, ``str``, ``list`` or ``dict`` (a tuple)."""
    return _sample(param.name, param.type)


def _sample(name: str, type_: Type) -> Any:
    if type_.kind == "integer":
        return _INTEGER_SAMPLES.get(name, 1)
    if type_.kind == "list":
        return [_sample(type_.element.name, type_.element.type)]
    if type_.kind == "tuple":
        return {f.name: _sample(f.name, f.type) for f in type_.fields}
    if type_.kind == "rescode":
        return 0
    if type_.kind == "restuple":
        return "Success"
    return _TEXT_SAMPLES.get(name, name)


def _arguments(definition: CommandDefinition) -> dict[str, Any]:
    return {p.name: sample_value(p) for p in definition.args}


def example(language: str, definition: CommandDefinition) -> Example:
    """An example call of ``definition`` in ``language`` (one of :data:`LANGUAGES`)."""
    writers = {
        "json": _json,
        "xmlrpc": _xmlrpc,
        "java": _java,
        "perl": _perl,
        "ctl": _ctl,
    }
    return writers[language](definition)


# -- JSON /api --------------------------------------------------------------------


def _json(definition: CommandDefinition) -> Example:
    body = json.dumps(_arguments(definition), indent=2, ensure_ascii=False)
    answer = json.dumps(_json_result(definition.result), indent=2, ensure_ascii=False)
    code = f"POST {_API_URL}/{definition.name}\n{body}\n\nHTTP/1.1 200 OK\n{answer}"
    return Example("JSON /api", "http", code)


def _json_result(result: Param) -> Any:
    type_ = result.type
    value = sample_value(result)
    if type_.kind == "list" and _is_pair_list(type_.element.type):
        # mod_http_api answers a list of name/value pairs with one object
        key, item = type_.element.type.fields
        return {str(sample_value(key)): sample_value(item)}
    return value


def _is_pair_list(element: Type) -> bool:
    if element.kind != "tuple" or len(element.fields) != 2:
        return False
    first, second = element.fields
    return first.type.kind == "atom" or (first.name == "name" and second.name == "value")


# -- XML-RPC ----------------------------------------------------------------------


def _xmlrpc(definition: CommandDefinition) -> Example:
    params = [_AUTH]
    if definition.args:
        params.append(_arguments(definition))
    values = "\n".join(f"    <param>\n{_xml_value(p, 6)}\n    </param>" for p in params)
    code = (
        f"POST {_XMLRPC_URL}\n"
        '<?xml version="1.0"?>\n'
        "<methodCall>\n"
        f"  <methodName>{escape(definition.name)}</methodName>\n"
        f"  <params>\n{values}\n  </params>\n"
        "</methodCall>"
    )
    return Example("XML-RPC", "xml", code)


def _xml_value(value: Any, indent: int) -> str:
    pad = " " * indent
    if isinstance(value, int):
        return f"{pad}<value><int>{value}</int></value>"
    if isinstance(value, str):
        return f"{pad}<value><string>{escape(value)}</string></value>"
    if isinstance(value, list):
        items = "\n".join(_xml_value(item, indent + 4) for item in value)
        return f"{pad}<value><array><data>\n{items}\n{pad}</data></array></value>"
    members = "\n".join(
        f"{pad}  <member><name>{escape(str(key))}</name>\n"
        f"{_xml_value(item, indent + 4)}\n{pad}  </member>"
        for key, item in value.items()
    )
    return f"{pad}<value><struct>\n{members}\n{pad}</struct></value>"


# -- Java (Apache XML-RPC client) ---------------------------------------------------


def _java(definition: CommandDefinition) -> Example:
    params = [_java_value(_AUTH)]
    if definition.args:
        params.append(_java_value(_arguments(definition)))
    code = "\n".join(
        [
            "XmlRpcClientConfigImpl config = new XmlRpcClientConfigImpl();",
            f'config.setServerURL(new URL("{_XMLRPC_URL}"));',
            "XmlRpcClient client = new XmlRpcClient();",
            "client.setConfig(config);",
            f"Object result = client.execute({json.dumps(definition.name)},",
            f"    new Object[] {{{', '.join(params)}}});",
        ]
    )
    return Example("Java (Apache XML-RPC)", "java", code)


def _java_value(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string of ASCII text is a Java literal
    if isinstance(value, list):
        return "List.of(" + ", ".join(_java_value(item) for item in value) + ")"
    pairs = ", ".join(f"{json.dumps(str(k))}, {_java_value(v)}" for k, v in value.items())
    return f"Map.of({pairs})"


# -- Perl (RPC::XML) ----------------------------------------------------------------


def _perl(definition: CommandDefinition) -> Example:
    params = [_perl_value(_AUTH)]
    if definition.args:
        params.append(_perl_value(_arguments(definition)))
    code = "\n".join(
        [
            "use RPC::XML::Client;",
            f"my $client = RPC::XML::Client->new('{_XMLRPC_URL}');",
            f"my $result = $client->send_request({_perl_string(definition.name)},",
            f"    {', '.join(params)});",
        ]
    )
    return Example("Perl (RPC::XML)", "perl", code)


def _perl_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _perl_value(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _perl_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_perl_value(item) for item in value) + "]"
    pairs = ", ".join(f"{k} => {_perl_value(v)}" for k, v in value.items())
    return "{" + pairs + "}"


# -- gatewayctl ---------------------------------------------------------------------


def _ctl(definition: CommandDefinition) -> Example:
    words = ["gatewayctl", definition.name]
    words += [_ctl_word(sample_value(p)) for p in definition.args]
    return Example("gatewayctl", "sh", " ".join(shlex.quote(w) for w in words))


def _ctl_word(value: Any) -> str:
    # ejabberdctl's syntax: lists a,b,c; tuples a:b; a list of tuples a:b,c:d
    if isinstance(value, list):
        return ",".join(_ctl_word(item) for item in value)
    if isinstance(value, Mapping):
        return ":".join(_ctl_word(item) for item in value.values())
    return str(value)
