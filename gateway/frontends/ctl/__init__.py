"""The ejabberdctl dialect: command lines in, text and an exit status out.

:mod:`.text` formats results, errors and help; :mod:`.json_output` gives
``gatewayctl --json`` its ``/api`` JSON; :mod:`.options` reads ``--version``
and ``--auth``; :mod:`.args` reads the positional arguments; :mod:`.process`
runs a whole command line through the engine; :mod:`.server` serves the
local control socket ``gatewayctl`` talks to; and :mod:`.completion` writes
its bash completion script.
"""

from gateway.frontends.ctl.args import ArgumentCountError, parse_ctl_args
from gateway.frontends.ctl.process import CtlProcessor
from gateway.frontends.ctl.server import CtlFactory, CtlProtocol
from gateway.frontends.ctl.text import (
    format_command_list,
    format_error,
    format_help,
    format_result,
    output_style,
)

__all__ = [
    "ArgumentCountError",
    "CtlFactory",
    "CtlProcessor",
    "CtlProtocol",
    "format_command_list",
    "format_error",
    "format_help",
    "format_result",
    "output_style",
    "parse_ctl_args",
]
