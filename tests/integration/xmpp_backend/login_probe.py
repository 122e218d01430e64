"""Run one ``gateway.auth: xmpp`` login check against a real server, in its own process.

``python -m tests.integration.xmpp_backend.login_probe C2S HOST USER PASSWORD [TLS [CA|-]]``
prints ``accepted``, ``refused`` or ``undecided: <message>`` (the Unavailable error), so tests
can drive :class:`~gateway.backends.xmpp.login.XmppLoginVerifier` on the real reactor without
sharing one with pytest.  ``CA`` ``-`` means no verification.
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.internet.defer import ensureDeferred
from twisted.internet.task import react

from gateway.backends.xmpp.login import XmppLoginVerifier
from gateway.engine.errors import Unavailable


async def probe(reactor: Any, argv: list[str]) -> None:
    c2s, host, user, password = argv[:4]
    tls = argv[4] if len(argv) > 4 else "if_offered"
    ca = argv[5] if len(argv) > 5 else None
    verifier = XmppLoginVerifier.from_endpoint_string(
        reactor,
        c2s,
        [host],
        tls_mode=tls,
        verify=ca != "-",
        ca=None if ca in (None, "-") else ca,
        timeout=10,
    )
    try:
        accepted = await verifier.check(user, host, password)
    except Unavailable as e:
        print(f"undecided: {type(e).__name__}: {e.message}")
        return
    print("accepted" if accepted else "refused")


def main() -> None:
    argv = sys.argv[1:]
    react(lambda reactor: ensureDeferred(probe(reactor, argv)))


if __name__ == "__main__":
    main()
