"""mod_rest: POST a stanza to send it, or an ejabberdctl command line to run it."""

from gateway.frontends.rest.cmdline import split_command_line
from gateway.frontends.rest.resource import RestResource
from gateway.frontends.rest.sink import StanzaSink

__all__ = ["RestResource", "StanzaSink", "split_command_line"]
