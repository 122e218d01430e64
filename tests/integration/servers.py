"""Private ejabberd and Prosody servers from Debian packages, on loopback, for integration tests.

Each server lives in its own temporary directory (configuration, database, logs), listens on
127.0.0.1 only, on free ports, and runs as the user running the tests.  The system services of
the packages are never touched.

ejabberd is started the way ``ejabberdctl foreground`` starts it, but with ``erl`` called
directly: the Debian script insists on switching to the ``ejabberd`` user (and refuses any
other caller than root), and that user could not read a test's files (for example the
gateway's store that an extauth program opens).  Erlang distribution runs without epmd
(``-erl_epmd_port``), on a loopback port, with a private cookie, so no epmd daemon is ever
started and nothing is left behind.  Administration commands (``register``, ``status`` …) go
through the same ``ejabberd_ctl`` module that ``ejabberdctl`` uses.

Prosody runs in the foreground with a private configuration file; when the tests run as
root the file sets ``run_as_root`` so that Prosody and ``prosodyctl`` stay the same user.

Every server can be stopped and started again with its data kept (``stop``/``start``), and is
removed with its directory by ``close`` (or leaving its ``with`` block).  Stopping sends
SIGTERM (a clean shutdown for both servers), then kills the server's process group and every
process that inherited its marker variable, so no helper (e.g. an extauth program) survives.
"""

from __future__ import annotations

import glob
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

import pytest
import yaml

from tests.integration.daemon import free_port

__all__ = [
    "LOOPBACK",
    "Component",
    "EjabberdServer",
    "ProsodyServer",
    "ServerError",
    "XmppServer",
    "ejabberd_erl_libs",
    "missing_ejabberd",
    "missing_prosody",
    "require",
]

LOOPBACK = "127.0.0.1"
# Set in every server process's environment, and inherited by what it spawns, so that
# stopping a server can find and end all of them.
MARKER = "XMPP_TEST_SERVER_DIR"

_names = count(1)


class ServerError(RuntimeError):
    """A test server could not be started, driven or stopped; the message holds its log."""


@dataclass(frozen=True)
class Component:
    """An XEP-0114 component listener: the domain a component may claim, its port and secret."""

    domain: str
    port: int
    secret: str
    host: str = LOOPBACK


def ejabberd_erl_libs() -> Path | None:
    """The directory holding Debian's ``ejabberd-<version>/`` Erlang application, if installed."""
    for app in sorted(glob.glob("/usr/lib/*/ejabberd-*/ebin/ejabberd.app")):
        return Path(app).parents[2]
    return None


def missing_ejabberd() -> str | None:
    """Why a private ejabberd cannot run here, or None when it can."""
    if shutil.which("erl") is None:
        return "the Erlang runtime (erl) is not installed: apt-get install ejabberd"
    if ejabberd_erl_libs() is None:
        return "ejabberd is not installed: apt-get install ejabberd"
    return None


def missing_prosody() -> str | None:
    """Why a private Prosody cannot run here, or None when it can."""
    for program in ("prosody", "prosodyctl"):
        if shutil.which(program) is None:
            return f"{program} is not installed: apt-get install prosody"
    return None


def require(reason: str | None) -> None:
    """Go on when ``reason`` is None; else skip the test, or fail it when ``CI`` is set.

    CI installs the servers, so a missing one there is a broken setup, not a reason to skip.
    """
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the integration tests must run)", pytrace=False)
    pytest.skip(reason)


def _accepts(port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on loopback ``port``."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False


def _marked_processes(workdir: str) -> list[int]:
    """Live processes (not zombies) whose environment names ``workdir`` as their server's."""
    marker = b"\0" + f"{MARKER}={workdir}".encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker in b"\0" + environ and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class XmppServer:
    """What both servers share: a work directory, ports, accounts and the process lifecycle.

    ``users`` maps local parts to passwords; they are registered after the first start.
    ``component=True`` adds an XEP-0114 listener for ``component_domain`` (``rest.<vhost>``
    unless given) with ``component_secret`` (random unless given).
    """

    product: ClassVar[str] = "XMPP server"
    kind: ClassVar[str] = "xmpp"
    start_timeout: ClassVar[float] = 60.0
    stop_timeout: ClassVar[float] = 20.0

    def __init__(
        self,
        *,
        vhost: str = "localhost",
        users: Mapping[str, str] | None = None,
        component: bool = True,
        component_domain: str | None = None,
        component_secret: str | None = None,
        c2s_port: int | None = None,
        component_port: int | None = None,
        parent_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.host = LOOPBACK
        self.vhost = vhost
        self.users: dict[str, str] = {}
        self._initial_users = dict(users or {})
        self.c2s_port = c2s_port or free_port()
        self.component: Component | None = None
        if component:
            self.component = Component(
                domain=component_domain or f"rest.{vhost}",
                port=component_port or free_port(),
                secret=component_secret or secrets.token_hex(12),
            )
        self._parent_dir = parent_dir
        self._extra_env = dict(env or {})
        self._workdir: Path | None = None
        # Kept after close() so that leftover_processes() can still look for stragglers.
        self._marker: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._started_once = False

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def workdir(self) -> Path:
        """The private directory (created by the first ``start``)."""
        if self._workdir is None:
            raise ServerError(f"{self.product} has not been started yet")
        return self._workdir

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The main server process while one runs."""
        return self._process.pid if self.running and self._process else None

    def start(self) -> None:
        """Start the server, with its data from any previous run, and wait until it serves."""
        if self.running:
            raise ServerError(f"{self.product} is already running")
        if self._workdir is None:
            self._workdir = Path(
                tempfile.mkdtemp(prefix=f"{self.kind}-test-", dir=self._parent_dir)
            )
            self._marker = str(self._workdir)
            self._prepare()
        with open(self.workdir / "console.log", "ab") as console:
            self._process = subprocess.Popen(
                self._command(),
                cwd=self.workdir,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                # A group of its own: stopping it never signals the test process.
                start_new_session=True,
            )
        try:
            self._wait_until_ready()
            if not self._started_once:
                self._started_once = True
                for user, password in self._initial_users.items():
                    self.register(user, password)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (politely, then by force) and every process it started; keep data."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.poll() is None:
                self._ask_to_stop(process)
                process.wait(timeout=self.stop_timeout)
        except (subprocess.TimeoutExpired, ServerError, OSError):
            pass
        finally:
            self._kill_all(process)

    def kill(self) -> None:
        """Kill the server and its helpers at once with SIGKILL, as a crash would."""
        process, self._process = self._process, None
        if process is not None:
            self._kill_all(process)

    def leftover_processes(self) -> list[int]:
        """Live processes started for this server (they carry its marker in their environment)."""
        return [] if self._marker is None else _marked_processes(self._marker)

    def _kill_all(self, process: subprocess.Popen[bytes]) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()
        # Helpers such as extauth programs run in sessions of their own (Erlang starts
        # ports through erl_child_setup, which calls setsid), so the group kill misses them.
        for pid in self.leftover_processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def restart(self) -> None:
        """Stop and start again, keeping accounts and stored data."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()  # __exit__ will not run
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- accounts ----------------------------------------------------------------------------

    def jid(self, user: str) -> str:
        """The bare JID of ``user`` on this server's virtual host."""
        return f"{user}@{self.vhost}"

    def password(self, user: str) -> str:
        """The password ``user`` was registered with through this object."""
        try:
            return self.users[user]
        except KeyError:
            raise ServerError(f"{user} was not registered through this {self.product}") from None

    def register(self, user: str, password: str) -> None:
        """Create the account ``user@vhost`` with the server's own admin tool."""
        raise NotImplementedError

    # -- diagnostics -------------------------------------------------------------------------

    def log_text(self) -> str:
        """The end of the server's logs, for failure messages."""
        parts = []
        for name in self._log_files():
            path = self.workdir / name
            if path.exists():
                parts.append(f"--- {name}\n{_tail(path)}")
        return "\n".join(parts)

    # -- what each server defines ----------------------------------------------------------

    def _prepare(self) -> None:
        """Write the configuration into the fresh work directory."""
        raise NotImplementedError

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _run_tool(
        self, command: list[str], label: str, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """Run an admin tool of this server in its environment (output merged)."""
        try:
            return subprocess.run(
                command,
                cwd=self.workdir,
                env=self._environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise ServerError(f"{label} timed out") from e

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self._extra_env)
        env[MARKER] = str(self.workdir)
        return env

    def _is_serving(self) -> bool:
        """Whether the started server answers (beyond accepting TCP on its ports).

        Raises ServerError when it is clear that it never will.
        """
        return True

    def _ask_to_stop(self, process: subprocess.Popen[bytes]) -> None:
        # Both servers shut down cleanly on SIGTERM (for ejabberd the Erlang VM runs
        # init:stop(), as ``ejabberdctl stop`` does, a second sooner).
        process.terminate()

    def _log_files(self) -> Sequence[str]:
        return ("console.log",)

    # -- helpers -----------------------------------------------------------------------------

    def _ports(self) -> list[int]:
        ports = [self.c2s_port]
        if self.component is not None:
            ports.append(self.component.port)
        return ports

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise ServerError(f"{self.product} exited with {code}:\n{self.log_text()}")
            if all(_accepts(port) for port in self._ports()) and self._is_serving():
                return
            time.sleep(0.1)
        raise ServerError(
            f"{self.product} did not serve within {self.start_timeout}s:\n{self.log_text()}"
        )


class EjabberdServer(XmppServer):
    """A private ejabberd node.

    ``auth_method`` is ``"internal"`` (accounts in the node's Mnesia) or ``"external"``, in
    which case ``extauth_program`` is the command line ejabberd runs for every check (it
    inherits this object's environment, plus ``env``).  ``http_port`` serves ``/api``
    (mod_http_api, every command allowed from loopback).  ``extra`` is merged into the
    generated ejabberd.yml (dictionaries one level deep, e.g. ``{"modules": {...}}``).
    """

    product = "ejabberd"
    kind = "ejabberd"

    def __init__(
        self,
        *,
        auth_method: str = "internal",
        extauth_program: Sequence[str] | None = None,
        http_port: int | None = None,
        extra: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if auth_method not in ("internal", "external"):
            raise ValueError(f"unsupported auth_method {auth_method!r}")
        if (auth_method == "external") != (extauth_program is not None):
            raise ValueError("extauth_program is required with, and only with, external auth")
        self.auth_method = auth_method
        self.extauth_program = list(extauth_program) if extauth_program else None
        self.http_port = http_port or free_port()
        self.dist_port = free_port()
        self.node = f"ejabberd_test_{os.getpid()}_{next(_names)}@localhost"
        self._extra = dict(extra or {})
        libs = ejabberd_erl_libs()
        if libs is None or shutil.which("erl") is None:
            raise ServerError(missing_ejabberd() or "ejabberd is not installed")
        self._erl_libs = libs

    @property
    def config_path(self) -> Path:
        return self.workdir / "ejabberd.yml"

    def config(self) -> dict[str, Any]:
        """The ejabberd.yml this node runs with, as data."""
        listen: list[dict[str, Any]] = [
            {
                "port": self.c2s_port,
                "ip": LOOPBACK,
                "module": "ejabberd_c2s",
                "starttls_required": False,
            },
            {
                "port": self.http_port,
                "ip": LOOPBACK,
                "module": "ejabberd_http",
                "request_handlers": {"/api": "mod_http_api"},
            },
        ]
        if self.component is not None:
            listen.append(
                {
                    "port": self.component.port,
                    "ip": LOOPBACK,
                    "module": "ejabberd_service",
                    "check_from": False,
                    "hosts": {self.component.domain: {"password": self.component.secret}},
                }
            )
        config: dict[str, Any] = {
            "loglevel": "info",
            "hosts": [self.vhost],
            "certfiles": [],
            "acme": {"auto": False},
            "listen": listen,
            "auth_method": [self.auth_method],
            # Tests change passwords and ban accounts: every check must reach the backend.
            "auth_use_cache": False,
            # No server-to-server traffic ever leaves this machine.
            "s2s_access": "none",
            "api_permissions": {
                "console commands": {"from": ["ejabberd_ctl"], "who": "all", "what": "*"},
                "loopback api": {
                    "from": ["mod_http_api"],
                    "who": {"ip": "127.0.0.1/8"},
                    "what": "*",
                },
            },
            "modules": {
                "mod_disco": {},
                "mod_http_api": {},
                "mod_offline": {},
                "mod_ping": {},
                "mod_roster": {},
            },
        }
        if self.extauth_program is not None:
            config["extauth_program"] = str(self.workdir / "extauth.sh")
            config["extauth_pool_size"] = 1
        for key, value in self._extra.items():
            if isinstance(value, Mapping) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}
            else:
                config[key] = value
        return config

    def _prepare(self) -> None:
        for name in ("spool", "logs"):
            (self.workdir / name).mkdir()
        cookie = self.workdir / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(16))
        cookie.chmod(0o400)
        if self.extauth_program is not None:
            # ejabberd splits extauth_program on spaces; a script keeps any path intact.
            script = self.workdir / "extauth.sh"
            script.write_text(f"#!/bin/sh\nexec {shlex.join(self.extauth_program)}\n")
            script.chmod(0o700)
        self.config_path.write_text(yaml.safe_dump(self.config(), sort_keys=False))

    def _erl_base(self) -> list[str]:
        """``erl`` with loopback-only, epmd-less distribution on this node's port."""
        return [
            "erl",
            "-noinput",
            "-start_epmd",
            "false",
            "-erl_epmd_port",
            str(self.dist_port),
            "-kernel",
            "inet_dist_use_interface",
            "{127,0,0,1}",
        ]

    def _command(self) -> list[str]:
        spool = str(self.workdir / "spool").replace("\\", "\\\\").replace('"', '\\"')
        return [
            *self._erl_base(),
            "-sname",
            self.node,
            "-mnesia",
            "dir",
            f'"{spool}"',
            "-s",
            "ejabberd",
        ]

    def _environment(self) -> dict[str, str]:
        env = super()._environment()
        env.update(
            {
                # The cookie file lives here; nothing touches the real home directory.
                "HOME": str(self.workdir),
                "ERL_LIBS": str(self._erl_libs),
                "EJABBERD_CONFIG_PATH": str(self.config_path),
                "EJABBERD_LOG_PATH": str(self.workdir / "logs" / "ejabberd.log"),
                "ERL_CRASH_DUMP": str(self.workdir / "logs" / "erl_crash.dump"),
                "ERL_CRASH_DUMP_BYTES": "0",
            }
        )
        return env

    def ctl(self, *args: str, check: bool = True, timeout: float = 30) -> str:
        """Run an ejabberdctl command on this node; its output.

        With ``check`` a non-zero exit raises ServerError; without, the output is returned
        whatever the exit code (see ``ctl_result`` for the code itself).
        """
        result = self.ctl_result(*args, timeout=timeout)
        if check and result.returncode != 0:
            raise ServerError(
                f"ejabberdctl {shlex.join(args)} exited {result.returncode}: {result.stdout}"
            )
        return result.stdout

    def ctl_result(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run an ejabberdctl command on this node; the completed process (output merged)."""
        name = f"ctl_{os.getpid()}_{next(_names)}@localhost"
        command = [
            *self._erl_base(),
            "-dist_listen",
            "false",
            "-hidden",
            "-sname",
            name,
            "-s",
            "ejabberd_ctl",
            "-extra",
            self.node,
            *args,
        ]
        return self._run_tool(command, f"ejabberdctl {shlex.join(args)}", timeout)

    def register(self, user: str, password: str) -> None:
        self.ctl("register", user, self.vhost, password)
        self.users[user] = password

    def _ports(self) -> list[int]:
        return [*super()._ports(), self.http_port]

    def _is_serving(self) -> bool:
        try:
            result = self.ctl_result("status", timeout=15)
        except ServerError:
            # on a loaded machine the ctl's own VM may not get its answer in time: the
            # start-up deadline, not one probe, decides when to give up
            return False
        return result.returncode == 0 and "status: started" in result.stdout

    def _log_files(self) -> Sequence[str]:
        return ("console.log", "logs/error.log", "logs/ejabberd.log")


def _lua(value: Any) -> str:
    """``value`` written as a Lua literal for Prosody's configuration file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        text = str(value)
        for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r")):
            text = text.replace(raw, escaped)
        return f'"{text}"'
    if isinstance(value, Mapping):
        items = "; ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in value.items())
        return "{ " + items + " }"
    if isinstance(value, list | tuple):
        return "{ " + ", ".join(_lua(item) for item in value) + " }"
    raise TypeError(f"no Lua form for {value!r}")


class ProsodyServer(XmppServer):
    """A private Prosody.

    ``authentication`` names the auth provider (``internal_hashed`` by default,
    ``internal_plain`` also works).  ``modules`` are loaded in addition to the minimal set;
    ``settings`` are extra global options, ``vhost_settings`` extra options of the virtual host,
    ``component_settings`` extra options of the component's section (all written as Lua
    values); ``plugin_paths`` adds module directories.
    """

    product = "Prosody"
    kind = "prosody"
    base_modules: ClassVar[tuple[str, ...]] = ("roster", "saslauth", "disco", "ping", "offline")

    def __init__(
        self,
        *,
        authentication: str = "internal_hashed",
        modules: Sequence[str] = (),
        settings: Mapping[str, Any] | None = None,
        vhost_settings: Mapping[str, Any] | None = None,
        component_settings: Mapping[str, Any] | None = None,
        plugin_paths: Sequence[Path] = (),
        **options: Any,
    ) -> None:
        super().__init__(**options)
        reason = missing_prosody()
        if reason is not None:
            raise ServerError(reason)
        self.authentication = authentication
        self.modules = [*self.base_modules, *modules]
        self._settings = dict(settings or {})
        self._vhost_settings = dict(vhost_settings or {})
        self._component_settings = dict(component_settings or {})
        self._plugin_paths = [str(path) for path in plugin_paths]

    @property
    def config_path(self) -> Path:
        return self.workdir / "prosody.cfg.lua"

    def config_text(self) -> str:
        """The Lua configuration file this server runs with."""
        workdir = self.workdir
        settings: dict[str, Any] = {
            "pidfile": workdir / "prosody.pid",
            "data_path": workdir / "data",
            "certificates": workdir / "certs",
            "log": {"info": workdir / "prosody.log", "error": workdir / "prosody.err"},
            "interfaces": [LOOPBACK],
            "local_interfaces": [LOOPBACK],
            "c2s_ports": [self.c2s_port],
            "c2s_interfaces": [LOOPBACK],
            "c2s_direct_tls_ports": [],
            "legacy_ssl_ports": [],
            "s2s_ports": [],
            "http_ports": [],
            "https_ports": [],
            "c2s_require_encryption": False,
            "allow_unencrypted_plain_auth": True,
            "authentication": self.authentication,
            "storage": "internal",
            "modules_enabled": self.modules,
            # No server-to-server traffic ever leaves this machine.
            "modules_disabled": ["s2s"],
        }
        if self.component is not None:
            settings["component_ports"] = [self.component.port]
            settings["component_interfaces"] = [LOOPBACK]
        if os.geteuid() == 0:
            # Prosody refuses root otherwise; staying one user keeps the test's files readable.
            settings["run_as_root"] = True
        if self._plugin_paths:
            settings["plugin_paths"] = self._plugin_paths
        settings.update(self._settings)
        lines = ["-- Written by the integration-test harness."]
        lines += [f"{key} = {_lua(value)}" for key, value in settings.items()]
        lines.append(f"VirtualHost {_lua(self.vhost)}")
        lines += [f"    {key} = {_lua(value)}" for key, value in self._vhost_settings.items()]
        if self.component is not None:
            lines.append(f"Component {_lua(self.component.domain)}")
            lines.append(f"    component_secret = {_lua(self.component.secret)}")
            lines += [
                f"    {key} = {_lua(value)}" for key, value in self._component_settings.items()
            ]
        return "\n".join(lines) + "\n"

    def _prepare(self) -> None:
        for name in ("data", "certs"):
            (self.workdir / name).mkdir()
        self.config_path.write_text(self.config_text())

    def _command(self) -> list[str]:
        return ["prosody", "-F", "--config", str(self.config_path)]

    def prosodyctl(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run ``prosodyctl --config <this server's file> args…`` (output merged)."""
        command = ["prosodyctl", "--config", str(self.config_path), *args]
        return self._run_tool(command, f"prosodyctl {shlex.join(args)}", timeout)

    def register(self, user: str, password: str) -> None:
        result = self.prosodyctl("register", user, self.vhost, password)
        if result.returncode != 0:
            raise ServerError(f"prosodyctl register {user} failed: {result.stdout}")
        self.users[user] = password

    def _is_serving(self) -> bool:
        # Prosody keeps running when it cannot bind a port; another process may hold it.
        errors = self.workdir / "prosody.err"
        if errors.exists() and "Failed to open server port" in errors.read_text():
            raise ServerError(f"Prosody could not open its ports:\n{self.log_text()}")
        return True

    def _log_files(self) -> Sequence[str]:
        return ("console.log", "prosody.err", "prosody.log")
