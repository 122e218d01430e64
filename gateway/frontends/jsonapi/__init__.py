"""ejabberd's mod_http_api dialect: commands as JSON over HTTP under ``/api``.

:mod:`.request` reads paths, versions and arguments, :mod:`.response` writes
results and errors, :mod:`.resource` is the Twisted resource joining them.
"""

from gateway.frontends.jsonapi.resource import JsonApiResource

__all__ = ["JsonApiResource"]
