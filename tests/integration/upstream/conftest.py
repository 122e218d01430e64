"""One private ejabberd 23.01 and one gateway in front of it, shared by this package's tests.

``front`` starts them once for the package: ejabberd with the gateway's account and rule
(see harness.py), and the gateway with ``backend: ejabberd``, ``auth: upstream``,
``stanzas: upstream`` and ``api_profile: auto`` for its upstream, both listeners on the 23.01
profile (the one ejabberd 23.01 speaks, so answers can be compared as they are).  Tests that
stop ejabberd or need other settings start servers of their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.compat.harness import ApiClient, XmlRpcClient
from tests.integration.servers import missing_ejabberd, require
from tests.integration.upstream.harness import (
    Front,
    RestClient,
    UpstreamEjabberd,
    ejabberd_upstream,
    running_gateway,
)


@pytest.fixture(scope="package")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    """The package's ejabberd 23.01 and the gateway forwarding to its ``/api``."""
    require(missing_ejabberd())
    workdir = tmp_path_factory.mktemp("upstream-front")
    with UpstreamEjabberd() as ejabberd:
        with running_gateway(
            workdir,
            upstream=ejabberd_upstream(ejabberd, api_profile="auto", timeout=10),
            stanzas="upstream",
        ) as gateway:
            yield Front(
                ejabberd,
                gateway,
                ApiClient(ejabberd.http_port),
                XmlRpcClient(ejabberd.http_port),
                ApiClient(gateway.http_port),
                # the standalone ejabberd_xmlrpc listener answers on every path
                XmlRpcClient(gateway.xmlrpc_port, path="/"),
                RestClient(gateway.http_port),
            )
