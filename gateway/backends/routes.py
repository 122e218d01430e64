"""``gateway.routes``: each command goes to the backend its route names.

A route is keyed by a command name or by ``[tag:NAME]`` (every command with
that catalogue tag); a name wins over a tag, and tags are tried in the order
they were configured.  Unrouted commands go to the default backend
(``gateway.backend``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from twisted.internet.defer import Deferred

from gateway.backends.interfaces import Executor
from gateway.config.backends_parse import route_tag
from gateway.engine.errors import CommandError, NotSupported
from gateway.engine.model import Caller, CommandDefinition

__all__ = ["RoutedExecutor"]


class RoutedExecutor:
    """One executor in front of several named backends, chosen per command.

    Args:
        default: the name of the backend unrouted commands go to.
        backends: every backend in use, by name (``embedded``, ``ejabberd``, ``xmpp``).
        routes: command name or ``[tag:NAME]`` → backend name.
        tags_of: a command's catalogue tags.
        could_run: backend names that could run a command although not
            configured, named in "not supported" errors (e.g. ``ejabberd``
            for a command only a live server can run).
    """

    def __init__(
        self,
        default: str,
        backends: Mapping[str, Executor],
        routes: Mapping[str, str],
        tags_of: Callable[[str], Iterable[str]],
        could_run: Callable[[str], Iterable[str]] = lambda command: (),
    ) -> None:
        self.name = default
        self._default = backends[default]
        self._backends = dict(backends)
        self._by_name = {
            key: backends[target] for key, target in routes.items() if route_tag(key) is None
        }
        self._by_tag = [
            (tag, backends[target])
            for key, target in routes.items()
            if (tag := route_tag(key)) is not None
        ]
        self._tags_of = tags_of
        self._could_run = could_run

    def route(self, command: str) -> Executor:
        """The backend that runs ``command``."""
        chosen = self._by_name.get(command)
        if chosen is not None:
            return chosen
        if self._by_tag:
            tags = set(self._tags_of(command))
            for tag, backend in self._by_tag:
                if tag in tags:
                    return backend
        return self._default

    def supports(self, command: str) -> bool:
        return self.route(command).supports(command)

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        return self.route(command).execute(command, args, caller)

    def not_supported(self, command: str) -> CommandError:
        """Why ``command`` cannot run, naming another backend only where one can run it."""
        chosen = self.route(command)
        own = getattr(chosen, "not_supported", None)
        if own is not None:
            error: CommandError = own(command)
            return error
        others = [
            name
            for name, backend in self._backends.items()
            if backend is not chosen and backend.supports(command)
        ]
        others += [name for name in self._could_run(command) if name not in self._backends]
        return NotSupported(command, chosen.name, others[0] if others else None)

    def native_profile(self, command: str) -> str | None:
        """The API profile the routed backend speaks natively for ``command``, if any."""
        native = getattr(self.route(command), "native_profile", None)
        return None if native is None else native(command)

    def execute_definition(
        self, definition: CommandDefinition, args: Mapping[str, Any], caller: Caller
    ) -> Deferred[Any]:
        """Hand a call in the backend's own profile to the routed backend unchanged."""
        backend: Any = self.route(definition.name)
        result: Deferred[Any] = backend.execute_definition(definition, args, caller)
        return result
