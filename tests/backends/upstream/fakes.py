"""Fakes for the upstream accounts tests: an ejabberd ``/api`` in memory, and its forwarder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed

from gateway.backends.interfaces import CredentialGenerations
from gateway.engine.errors import CommandError, CommandFailed
from gateway.engine.model import Caller

__all__ = ["CountingGenerations", "FakeUpstream", "Forwarder"]


class FakeUpstream:
    """ejabberd's ``/api`` for ``check_password``: accounts in a dict, every call recorded.

    ``check_password`` answers ``0`` or ``1`` as mod_http_api writes a
    rescode.  ``failure`` makes every call fail with it; ``hold`` keeps the
    answers back until :meth:`release`; ``answer`` replaces the answer.
    """

    def __init__(self, accounts: dict[tuple[str, str], str]) -> None:
        self.accounts = accounts
        self.calls: list[tuple[str, dict[str, Any], int | None]] = []
        self.failure: CommandError | None = None
        self.answer: Any = None
        self.holding = False
        self.held: list[tuple[Deferred[Any], Any]] = []

    def call(
        self, name: str, args: Mapping[str, Any], *, version: int | None = None
    ) -> Deferred[Any]:
        self.calls.append((name, dict(args), version))
        if self.failure is not None:
            return fail(self.failure)
        if name != "check_password":
            return fail(CommandFailed(f"unexpected {name}"))
        right = self.accounts.get((args["user"], args["host"])) == args["password"]
        answer = self.answer if self.answer is not None else (0 if right else 1)
        if self.holding:
            d: Deferred[Any] = Deferred()
            self.held.append((d, answer))
            return d
        return succeed(answer)

    def release(self) -> None:
        """Answer every held call."""
        held, self.held = self.held, []
        for d, answer in held:
            if not d.called:
                d.callback(answer)

    def checks(self) -> int:
        """How many ``check_password`` calls reached the upstream."""
        return sum(1 for name, _, _ in self.calls if name == "check_password")


class Forwarder:
    """The upstream executor: applies account commands to the fake upstream's accounts.

    ``failure`` makes the next command fail with it *after* applying it (like a
    timeout that hides a change the upstream made).
    """

    name = "ejabberd"

    def __init__(self, upstream: FakeUpstream) -> None:
        self.upstream = upstream
        self.executed: list[str] = []
        self.failure: CommandError | None = None

    def supports(self, command: str) -> bool:
        return command in {"change_password", "unregister", "ban_account", "register", "status"}

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        self.executed.append(command)
        accounts = self.upstream.accounts
        if command in {"change_password", "register"}:
            key = (args["user"].lower(), args["host"].lower())
            accounts[key] = args["newpass" if command == "change_password" else "password"]
        elif command in {"unregister", "ban_account"}:
            accounts.pop((args["user"].lower(), args["host"].lower()), None)
        if self.failure is not None:
            failure, self.failure = self.failure, None
            return fail(failure)
        return succeed(True if command != "status" else "running")


class CountingGenerations:
    """A :class:`CredentialGenerations` that counts reads and can break, around a real one."""

    def __init__(self, inner: CredentialGenerations) -> None:
        self.inner = inner
        self.reads: list[tuple[str, str]] = []
        self.bumps: list[tuple[str, str] | None] = []
        self.broken = False

    def generation(self, user: str, host: str) -> Deferred[int]:
        self.reads.append((user, host))
        if self.broken:
            return fail(OSError("disk I/O error"))
        return self.inner.generation(user, host)

    def bump(self, user: str, host: str) -> Deferred[None]:
        self.bumps.append((user, host))
        if self.broken:
            return fail(OSError("disk I/O error"))
        return self.inner.bump(user, host)

    def bump_all(self) -> Deferred[None]:
        self.bumps.append(None)
        if self.broken:
            return fail(OSError("disk I/O error"))
        return self.inner.bump_all()
