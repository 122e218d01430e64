"""The ``gatewayctl(8)`` manual page in roff, listing the commands of the catalogue.

Written for man-db (``man -l FILE``) with only the ``man`` macros; text from
the catalogue is escaped so that no line of it can be read as a request.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from gateway import __version__
from gateway.engine.docgen.selection import Documented, by_tag
from gateway.engine.model import CommandDefinition

__all__ = ["MANPAGE_NAME", "escape_roff", "manpage"]

#: the file ``man`` writes: the page of section 8 (system administration)
MANPAGE_NAME = "gatewayctl.8"

_OPTIONS = (
    ("--config", "FILE", "the gateway's configuration, read only to find its control socket"),
    ("--version", "N", "call the newest definition of the command not above API version N"),
    ("--auth", "USER HOST PASSWORD", "run the command as that account"),
    ("--json", "", "print the result, or the error, as the JSON the /api interface answers"),
)


def escape_roff(text: str) -> str:
    """``text`` as roff input text: backslashes escaped, no line read as a request."""
    escaped = text.replace("\\", "\\e")
    lines = [("\\&" + line) if line[:1] in (".", "'") else line for line in escaped.split("\n")]
    return "\n".join(lines)


def _option_text(name: str, values: str) -> str:
    """``--name VALUES`` in bold and italics; ``\\-`` keeps the dashes ASCII minus signs."""
    shown = "\\fB" + name.replace("-", "\\-") + "\\fR"
    return shown + (f" \\fI{values}\\fR" if values else "")


def manpage(commands: Sequence[Documented], *, profile: str, seconds: float) -> str:
    """The page; ``seconds`` (since the epoch) dates it."""
    date = time.strftime("%Y-%m-%d", time.gmtime(seconds))
    lines = [
        f'.TH GATEWAYCTL 8 "{date}" "xmpp-api-gateway {__version__}" "xmpp-api-gateway"',
        # types such as {jid::string,...} are long words: no hyphens, ragged right
        ".nh",
        ".ad l",
        ".SH NAME",
        "gatewayctl \\- run ejabberd API commands in a running xmpp\\-api\\-gateway",
        ".SH SYNOPSIS",
        ".B gatewayctl",
        *(f"[{_option_text(name, values)}]" for name, values, _ in _OPTIONS),
        "\\fICOMMAND\\fR [\\fIARGUMENT\\fR ...]",
        ".SH DESCRIPTION",
        "\\fBgatewayctl\\fR sends one command line to the gateway over its control socket",
        "(\\fBgateway.ctl_socket\\fR, mode 0600) and prints the answer the way",
        "\\fBejabberdctl\\fR does.",
        "Arguments are positional: lists are written a,b,c, tuples a:b, and a list of",
        "tuples a:b,c:d.",
        "\\fBgatewayctl help\\fR lists the commands, \\fBgatewayctl help\\fR \\fICOMMAND\\fR",
        "describes one, \\fBgatewayctl help\\fR \\fITAG\\fR lists those carrying a tag and",
        "\\fBgatewayctl help tags\\fR lists every tag with its commands.",
        f"This page describes the commands of API profile {escape_roff(profile)}.",
        ".SH OPTIONS",
    ]
    for name, values, meaning in _OPTIONS:
        lines += [".TP", _option_text(name, values)]
        lines.append(escape_roff(meaning[0].upper() + meaning[1:]) + ".")
    lines.append(".SH COMMANDS")
    for command in commands:
        lines += _command(command)
    lines.append(".SH TAGS")
    for tag, tagged in by_tag(commands).items():
        lines += [".TP", f"\\fB{escape_roff(tag)}\\fR", ", ".join(c.name for c in tagged)]
    lines += [
        ".SH EXIT STATUS",
        "0 when the command succeeded, 1 when it failed, 2 for a usage error and 3 when",
        "the gateway could not be reached.",
        ".SH FILES",
        ".TP",
        ".I /etc/xmpp-gateway/gateway.yml",
        "The configuration read when \\fB\\-\\-config\\fR is not given",
        "(after \\fIconf/gateway.yml\\fR in the current directory).",
        ".SH SEE ALSO",
        ".BR twistd (1),",
        ".BR ejabberdctl (8)",
        "",
    ]
    return "\n".join(lines)


def _command(command: Documented) -> list[str]:
    newest = command.newest
    args = " ".join(f"\\fI{escape_roff(p.name)}\\fR" for p in newest.args)
    lines = [".TP", f"\\fB{escape_roff(command.name)}\\fR {args}".rstrip()]
    if newest.description:
        lines.append(escape_roff(newest.description))
    if newest.note:
        lines += [".br", escape_roff(f"({newest.note})")]
    lines += _signature(newest)
    versions = ", ".join(str(d.version) for d in command.versions)
    lines += [
        ".br",
        escape_roff(f"Tags: {', '.join(newest.tags) or 'none'}; versions: {versions}."),
    ]
    for older in reversed(command.older):
        lines += [".br", f"Version {older.version}:"]
        lines += _signature(older)
    return lines


def _signature(definition: CommandDefinition) -> list[str]:
    shown = ", ".join(_breakable(p.render()) for p in definition.args) or "none"
    return [
        ".br",
        f"Arguments: {shown}.",
        ".br",
        f"Result: {_breakable(definition.result.render())}.",
    ]


def _breakable(rendered: str) -> str:
    """A rendered type that may break after its commas (``\\:``): tuples are long."""
    return escape_roff(rendered).replace(",", ",\\:")
