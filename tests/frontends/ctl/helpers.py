"""What the ejabberdctl tests share: a processor on a real engine over the fake backend.

:func:`make` builds a :class:`CtlProcessor` whose engine runs over
:class:`gateway.testing.FakeBackend` (the accounts of
:mod:`tests.frontends.helpers`, and a few commands answered the way ejabberd
would) and :class:`FakePermissions`; :func:`run` runs one command line.
"""

from __future__ import annotations

from typing import Any

from gateway.engine.auth import Authenticator
from gateway.engine.model import Caller, CommandDefinition, ResTuple
from gateway.frontends.ctl.process import CtlProcessor
from gateway.testing import FakeBackend
from tests.engine.helpers import make_engine
from tests.frontends.helpers import ACCOUNTS

ROSTER = [("bob@localhost", "Bob", "both", "none", ["Friends", "Team"])]
#: what the backend answers besides the account commands, as ejabberd would
ANSWERS: dict[str, Any] = {
    "get_roster": ROSTER,
    "delete_old_users": lambda a: ResTuple(f"Removed users older than {a['days']} days"),
    "get_user_subscriptions": [("room@conf", "al", ["n1", "n2"])],
    "kick_session": RuntimeError("backend bug"),
}


class FakePermissions:
    """Allows everything but the commands listed in ``denied``; may blow up on ``broken``."""

    def __init__(self, denied: tuple[str, ...] = (), broken: tuple[str, ...] = ()) -> None:
        self.denied = denied
        self.broken = broken

    def allows(self, caller: Caller, definition: CommandDefinition) -> bool:
        if definition.name in self.broken:
            raise RuntimeError("permission evaluator bug")
        return definition.name not in self.denied


def make(
    profile: str = "24.12", permissions: FakePermissions | None = None, **kwargs: Any
) -> tuple[CtlProcessor, FakeBackend]:
    """A processor for ``profile`` and its backend; ``kwargs`` go to the processor."""
    backend = FakeBackend(ACCOUNTS, answers=ANSWERS)
    engine = make_engine(
        backend,
        permissions or FakePermissions(),
        profile=profile,
        authenticator=Authenticator(backend),
    )
    return CtlProcessor(engine, **kwargs), backend


def run(processor: CtlProcessor, *argv: str, ip: Any = None) -> tuple[str, int]:
    """The text and exit status ``argv`` gets (the fakes answer synchronously)."""
    answers: list[tuple[str, int]] = []
    processor.process(list(argv), ip=ip).addCallback(answers.append)
    assert answers, "the fake backend answers synchronously"
    return answers[0]
