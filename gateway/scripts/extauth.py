"""``gateway-extauth``: ejabberd/Prosody external authentication against the gateway's store.

Configure ejabberd with::

    auth_method: external
    extauth_program: "/path/to/.venv/bin/gateway-extauth --config /etc/xmpp-gateway/gateway.yml"

The program opens the same store as the daemon (SQLite in WAL mode or
PostgreSQL both allow that), answers on stdout and logs to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from twisted.internet.stdio import StandardIO
from twisted.logger import globalLogBeginner, textFileLogObserver

from gateway.config.errors import ConfigError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gateway-extauth",
        description="External authentication for ejabberd and Prosody from the gateway's accounts.",
    )
    parser.add_argument("--config", help="gateway configuration file")
    options = parser.parse_args(argv)

    from twisted.internet import reactor

    from gateway.backends.embedded.startup import open_embedded
    from gateway.config.load import find_config, load_config
    from gateway.frontends.extauth import ExtauthProtocol

    try:
        config = load_config(find_config(options.config))
    except ConfigError as e:
        print(f"gateway-extauth: {e}", file=sys.stderr)
        return 2
    # it opens (and may create) the daemon's store: whatever it creates is owner-only
    os.umask(0o077)
    # stdout carries the protocol: every log line goes to stderr
    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)], redirectStandardIO=False)
    backend, store = open_embedded(config, reactor, "gateway-extauth")

    def finish() -> None:
        store.close()
        if reactor.running:
            reactor.stop()

    StandardIO(ExtauthProtocol(backend, finish), reactor=reactor)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
