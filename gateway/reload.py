"""``reload_config`` and SIGHUP: re-read the daemon's file and apply what can change while it runs.

Applied at once: ``loglevel`` and the access policy (``acl``,
``access_rules``, ``api_permissions``), which every later call is judged by.
Everything else is wired into listeners, the store, the backend or the
component link when the daemon starts; a changed value there is reported as
waiting for a restart (the daemon keeps its old value meanwhile, and
``dump_config`` shows what is in effect).  A file that does not load leaves
everything exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from types import MappingProxyType
from typing import Any, Protocol

from twisted.logger import Logger

from gateway.config.dump import dump_yaml
from gateway.config.errors import ConfigError
from gateway.config.load import load_config
from gateway.config.model import Config, GatewaySection
from gateway.config.permissions_parse import permissions_from_config
from gateway.engine.errors import CommandFailed
from gateway.engine.permissions import Permissions

__all__ = ["LIVE_SETTINGS", "ConfigReloader", "restart_needed"]

log = Logger()

#: top-level keys a reload applies at once
LIVE_SETTINGS = ("loglevel", "acl", "access_rules", "api_permissions")


class LevelSetter(Protocol):
    def set(self, level: str | int) -> str: ...


def _settings(config: Config) -> dict[str, Any]:
    """Every setting that needs a restart, by its key path."""
    found: dict[str, Any] = {
        "hosts": config.hosts,
        "oauth_expire": config.oauth_expire,
        "listen": config.listen,
        "trusted_proxies": config.trusted_proxies,
        "modules.mod_http_api": config.modules.mod_http_api,
        "modules.mod_rest": config.modules.mod_rest,
    }
    for item in fields(GatewaySection):
        found[f"gateway.{item.name}"] = getattr(config.gateway, item.name)
    return found


def restart_needed(running: Config, new: Config) -> tuple[str, ...]:
    """The key paths whose value in ``new`` differs from ``running`` and needs a restart."""
    before, after = _settings(running), _settings(new)
    return tuple(key for key in before if before[key] != after[key])


class ConfigReloader:
    """Holds the configuration in effect and replaces its live parts from the file.

    Args:
        config: the configuration the daemon started with.
        levels: the daemon's log level control.
        permissions: the one permissions object every engine and frontend uses.
        load: reads a file into a :class:`Config` (raising :class:`ConfigError`).
    """

    def __init__(
        self,
        config: Config,
        *,
        levels: LevelSetter,
        permissions: Permissions,
        load: Callable[[str], Config] = load_config,
    ) -> None:
        self.current = config
        #: settings changed in the file that wait for a restart
        self.pending: tuple[str, ...] = ()
        self._levels = levels
        self._permissions = permissions
        self._load = load

    def reload(self) -> tuple[str, ...]:
        """Re-read the file the daemon started from; the settings waiting for a restart.

        Raises:
            ConfigError: the file is missing or invalid; nothing was changed.
        """
        source = self.current.source
        if source is None:
            raise ConfigError("the daemon was not started from a configuration file")
        new = self._load(source)
        effective = replace(
            self.current,
            loglevel=new.loglevel,
            acl=new.acl,
            access_rules=new.access_rules,
            api_permissions=new.api_permissions,
            warnings=new.warnings,
            document=self._document(new),
        )
        pending = restart_needed(effective, new)
        # built before anything changes, with the hosts still served (a host change waits)
        permissions = permissions_from_config(effective)
        self._levels.set(new.loglevel)
        self._permissions.replace(permissions)
        self.current, self.pending = effective, pending
        for warning in new.warnings:
            log.warn("configuration: {warning}", warning=warning)
        log.info("configuration reloaded from {source}", source=source)
        if pending:
            log.warn(
                "configuration: {settings} changed in {source}; restart the daemon to apply",
                settings=", ".join(pending),
                source=source,
            )
        return pending

    def reload_command(self) -> tuple[str, ...]:
        """:meth:`reload` as the ``reload_config`` command runs it.

        Raises:
            CommandFailed: the file is missing or invalid (the text names
                the problem); nothing was changed.
        """
        try:
            return self.reload()
        except ConfigError as e:
            raise CommandFailed(f"The configuration was not reloaded: {e}") from None

    def _document(self, new: Config) -> MappingProxyType[str, Any]:
        """The running document with the live sections taken from ``new``'s."""
        merged = dict(self.current.document)
        for key in LIVE_SETTINGS:
            if key in new.document:
                merged[key] = new.document[key]
            else:
                merged.pop(key, None)
        return MappingProxyType(merged)

    def dump(self) -> str:
        """The configuration in effect, as YAML text."""
        return dump_yaml(self.current)

    def status_lines(self) -> list[str]:
        """A line for ``status`` while reloaded settings wait for a restart."""
        if not self.pending:
            return []
        return [
            "Configuration changes waiting for a restart: " + ", ".join(self.pending),
        ]
