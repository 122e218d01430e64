"""The one directory commands may read and write files in (``gateway.files_dir``).

Every command argument that names a file (``create_rooms_file``,
``push_roster``, ``dump_config`` …) goes through :class:`FilesDir`:

- a relative path is relative to the directory; an absolute path is accepted
  only when it lies inside it;
- the directory part is resolved with every symbolic link and ``..``
  followed (``realpath``) and must be the directory itself or lie inside it,
  so neither ``..`` nor a link can lead out;
- the final name is taken literally and opened without following a symbolic
  link (``O_NOFOLLOW``): a link there is refused, never followed, even when
  it was planted after the check; reading takes regular files only (a FIFO
  would block, a device never ends), writing only creates new files.

Anything else is :class:`~gateway.engine.errors.PathRefused`.  Errors name
the argument and the path the caller gave, never what a file holds.  The
methods block on the file system: callers run them off the reactor thread
when the file may be large.
"""

from __future__ import annotations

import errno
import os
import stat

from gateway.engine.errors import CommandError, CommandFailed, PathRefused
from gateway.owner_only import ensure_private_dir

__all__ = ["FilesDir", "prepare_files_dir", "resolve_inside"]

#: longest path shown back in an error, in characters
_SHOWN = 200


def _show(path: str) -> str:
    shown = path if len(path) <= _SHOWN else path[:_SHOWN] + "…"
    return "'" + shown.replace("\n", "\\n") + "'"


def resolve_inside(root: str, given: str, argument: str) -> str:
    """The absolute path of the file ``given`` names inside directory ``root``.

    The directory part is resolved (links and ``..`` followed); the final
    name is kept as given, for the caller to open with ``O_NOFOLLOW``.
    ``root`` must already be absolute and resolved (see :class:`FilesDir`).

    Raises:
        PathRefused: for an empty path, a NUL byte, a path ending in a
            directory (``/``, ``.``, ``..``) or one whose resolved directory
            part is not ``root`` or inside it.
    """
    candidate = given if os.path.isabs(given) else os.path.join(root, given)
    head, name = os.path.split(candidate)
    if not given or "\0" in given or name in ("", ".", ".."):
        raise PathRefused(
            f"Argument '{argument}' must name a file in the files directory {root}, "
            f"not {_show(given)}"
        )
    parent = os.path.realpath(head)
    if parent != root and not parent.startswith(root.rstrip(os.sep) + os.sep):
        raise PathRefused(
            f"Argument '{argument}': {_show(given)} is outside the files directory {root}; "
            "name a file inside it (a relative path is relative to it)"
        )
    return os.path.join(parent, name)


class FilesDir:
    """File access for commands, confined to one directory.

    Args:
        root: the directory; it is resolved once, here (a relative path is
            taken relative to the current directory at that moment).
    """

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)

    def resolve(self, given: str, argument: str) -> str:
        """See :func:`resolve_inside`."""
        return resolve_inside(self.root, given, argument)

    def read(self, given: str, argument: str, what: str, max_bytes: int) -> bytes:
        """The bytes of the regular file ``given`` names (blocking).

        Raises:
            PathRefused: outside the directory, a final symbolic link or not a regular file.
            CommandFailed: the file cannot be read or holds more than ``max_bytes``.
        """
        path = self.resolve(given, argument)
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(path, flags)
        except OSError as e:
            raise self._os_error(e, given, argument, f"Cannot read {what}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise PathRefused(f"Argument '{argument}': {_show(given)} is not a regular file")
        with os.fdopen(fd, "rb") as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise CommandFailed(f"The {what} {_show(given)} is larger than {max_bytes} bytes")
        return data

    def create(self, given: str, argument: str, data: bytes) -> str:
        """Write ``data`` to a new owner-only (0600) file; its resolved path (blocking).

        An existing file is never replaced, and nothing half-written is left behind.

        Raises:
            PathRefused: outside the directory.
            CommandFailed: the file exists already or cannot be written.
        """
        path = self.resolve(given, argument)
        # O_EXCL never follows a link planted at the path, nor replaces a file
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            raise CommandFailed(f"{_show(given)} already exists; a new file is needed") from None
        except OSError as e:
            raise self._os_error(e, given, argument, "Cannot create") from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except OSError as e:
            os.unlink(path)
            raise CommandFailed(f"Cannot write {_show(given)}: {e.strerror or e}") from None
        return path

    @staticmethod
    def _os_error(error: OSError, given: str, argument: str, doing: str) -> CommandError:
        if error.errno == errno.ELOOP:
            # O_NOFOLLOW met a link swapped in after the path was checked
            return PathRefused(f"Argument '{argument}': {_show(given)} is a symbolic link")
        return CommandFailed(f"{doing} {_show(given)}: {error.strerror or error}")


def prepare_files_dir(path: str) -> FilesDir:
    """Create ``path`` owner-only (tightening it if it was not) and confine commands to it."""
    ensure_private_dir(path)
    return FilesDir(path)
