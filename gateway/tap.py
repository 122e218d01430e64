"""twistd entry point: options and ``makeService``."""

from __future__ import annotations

import os
from typing import Any

from twisted.application.service import IService
from twisted.python import usage

from gateway.config.errors import ConfigError

__all__ = ["Options", "makeService"]


class Options(usage.Options):
    """Command-line options of ``twistd xmpp-gateway``."""

    optParameters = [
        [
            "config",
            "c",
            None,
            "configuration file (default: conf/gateway.yml, then /etc/xmpp-gateway/gateway.yml)",
        ],
    ]

    def postOptions(self) -> None:
        from gateway.config.load import find_config, load_config

        try:
            self["config"] = find_config(self["config"])
            self.loaded = load_config(self["config"])
        except ConfigError as e:
            raise usage.UsageError(str(e)) from None


def makeService(options: Options) -> IService:
    from twisted.internet import reactor

    from gateway.service import build_service

    # belt and braces beside the explicit modes: whatever the daemon creates
    # (store, socket, dumps, logs) starts out owner-only
    os.umask(0o077)

    twistd: Any = getattr(options, "parent", None)
    config = options.loaded
    workers = config.gateway.workers or os.cpu_count() or 1
    if workers > 1:
        from gateway.workers.supervisor import build_supervisor

        return build_supervisor(config, reactor, workers, twistd_options=twistd)
    return build_service(config, reactor, twistd_options=twistd)
