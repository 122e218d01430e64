"""The differential suite's servers: a private ejabberd 23.01 and a gateway on the 23.01 profile.

Every test collected from this directory is marked ``integration``, as under
``tests/integration`` (whose harness it reuses): it starts real servers on loopback.

``pair`` is parametrised by dialect and gives each its own fresh pair of servers, so the
/api and the XML-RPC sequences each start from the same empty state: only the admin account,
registered on both sides with their own admin tools (ejabberdctl, gatewayctl).  Everything
else is created by the compared calls themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.engine.builtin import node_name
from tests.compat.calls import DIALECTS, files_for
from tests.compat.compare import Side
from tests.compat.harness import (
    ADMIN,
    ADMIN_PASSWORD,
    VHOST,
    ApiClient,
    CompatEjabberd,
    XmlRpcClient,
    running_gateway,
)
from tests.integration.servers import missing_ejabberd, require

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of this directory ``integration``: they start real servers."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


@dataclass(frozen=True)
class Pair:
    """ejabberd and the gateway side by side, the dialect to compare them in and the
    directory of the files that commands read."""

    dialect: str
    ejabberd: Side
    gateway: Side
    files: Path


@pytest.fixture(scope="module", params=DIALECTS)
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """A fresh ejabberd 23.01 and gateway (23.01 profile) with the admin account on both,
    for each dialect in turn."""
    require(missing_ejabberd())
    workdir = tmp_path_factory.mktemp(f"compat-{request.param}")
    # The file commands of both servers read the same files, inside the gateway's files_dir.
    files = workdir / "files"
    files.mkdir(mode=0o700)
    for name, content in files_for(files).items():
        (files / name).write_text(content)
    with CompatEjabberd(users={ADMIN: ADMIN_PASSWORD}) as ejabberd:
        with running_gateway(workdir) as gateway:
            result = gateway.ctl("register", ADMIN, VHOST, ADMIN_PASSWORD)
            assert result.returncode == 0, result.stdout + result.stderr
            yield Pair(
                request.param,
                Side(
                    "ejabberd",
                    ApiClient(ejabberd.http_port),
                    XmlRpcClient(ejabberd.http_port),
                    ejabberd.node,
                ),
                Side(
                    "gateway",
                    ApiClient(gateway.http_port),
                    XmlRpcClient(gateway.http_port),
                    node_name(),
                ),
                files,
            )
