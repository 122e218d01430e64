"""Keep the daemon's private files private: owner-only directories and files.

The store holds password keys and token hashes, the control socket runs any
command, and ``files_dir`` receives configuration dumps: none of them may be
readable by anyone but the account the gateway runs as.  Directories the
gateway creates are made 0700 (every level it creates, not only the last);
files it creates are 0600.  What an older version left group- or
world-accessible is tightened at start-up with a warning, but only when this
process owns it: a path owned by someone else is reported, never changed.
"""

from __future__ import annotations

import os
import stat

from twisted.logger import Logger

__all__ = ["LOOSE_BITS", "create_private_file", "ensure_private_dir", "tighten"]

log = Logger()

#: the permission bits that let anyone but the owner in
LOOSE_BITS = 0o077


def ensure_private_dir(path: str, *, tighten_existing: bool = True) -> None:
    """Create directory ``path`` (and missing parents) 0700.

    With ``tighten_existing`` an existing directory this process owns loses
    its group and other bits (with a warning); without it, a loose existing
    directory is only reported, because it may hold other people's things.

    Raises:
        OSError: when the directory cannot be created or ``path`` is not one.
    """
    missing: list[str] = []
    current = os.path.abspath(path)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            if not os.path.isdir(directory):
                raise
        # mkdir's mode is filtered by the umask, which can only remove bits
    if not os.path.isdir(path):
        raise NotADirectoryError(f"{path} is not a directory")
    if tighten_existing:
        tighten(path)
    else:
        _report(path)


def tighten(path: str) -> bool:
    """Remove group and other permissions from ``path`` if this process owns it.

    Returns whether it had to (a warning is logged then).  A missing path is
    ignored; a loose path owned by another account is reported only.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(info.st_mode) or not info.st_mode & LOOSE_BITS:
        return False
    if info.st_uid != os.geteuid():
        _report(path, info)
        return False
    old = stat.S_IMODE(info.st_mode)
    os.chmod(path, old & ~LOOSE_BITS)
    log.warn(
        "{path} was readable by others (mode {old:04o}); made owner-only ({new:04o})",
        path=path,
        old=old,
        new=old & ~LOOSE_BITS,
    )
    return True


def create_private_file(path: str) -> None:
    """Create ``path`` empty and 0600 if it does not exist (an existing file is left as is)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return
    os.close(fd)


#: loose paths already reported: the store and the socket often share a directory
_reported: set[str] = set()


def _report(path: str, info: os.stat_result | None = None) -> None:
    info = info or os.lstat(path)
    path = os.path.realpath(path)
    if info.st_mode & LOOSE_BITS and path not in _reported:
        _reported.add(path)
        log.warn(
            "{path} is accessible to others (mode {mode:04o}); make it owner-only (chmod go-rwx)",
            path=path,
            mode=stat.S_IMODE(info.st_mode),
        )
