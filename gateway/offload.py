"""Running CPU-heavy decoding off the event loop.

Parsing a body of up to ``max_body_bytes`` (1 MiB by default) takes tens to
hundreds of milliseconds in lxml, ``json`` and our own splitters; done on the
event loop, every other client waits that long.  Resources hand such work to
an :class:`Offload` together with the size of the input: small inputs (the
usual case) are decoded inline, larger ones in a decoding thread, and the
result comes back to the loop as a Deferred.

Whatever is offloaded must be thread-safe: a pure function of its arguments
that builds new objects (the decoders only read their input and return fresh
values; an lxml tree parsed in a thread is used only by the request that
asked for it, after the thread is done with it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

from twisted.application.service import Service
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

__all__ = ["DEFAULT_THRESHOLD", "Offload", "ThreadOffload", "run_inline"]

P = ParamSpec("P")
T = TypeVar("T")

#: inputs of at least this many bytes are decoded in a thread; below it the
#: slowest decoder we have (a quoted mod_rest word) stays under ~5 ms
DEFAULT_THRESHOLD = 8 * 1024


class Offload(Protocol):
    """Runs ``fn(*args, **kwargs)`` for an input of ``size`` bytes; fires with its result.

    The Deferred fails with whatever ``fn`` raised.
    """

    def __call__(
        self, size: int, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Deferred[T]: ...


def run_inline(size: int, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Deferred[T]:
    """An :class:`Offload` that runs everything at once on the calling thread (unit tests)."""
    return maybeDeferred(fn, *args, **kwargs)


class ThreadOffload(Service):
    """An :class:`Offload` that decodes inputs of ``threshold`` bytes or more in its own thread.

    A service: its thread pool runs while it does.  One thread by default:
    decoding is mostly Python work under the GIL, so more threads would not
    decode faster, only take more turns from the event loop; large inputs
    wait for each other instead.

    Args:
        reactor: where results are handed back.
        threshold: the smallest input size, in bytes, sent to the thread.
        threads: the most inputs decoded at once.
    """

    def __init__(
        self,
        reactor: IReactorFromThreads,
        *,
        threshold: int = DEFAULT_THRESHOLD,
        threads: int = 1,
    ) -> None:
        if threshold < 0:
            raise ValueError("threshold cannot be negative")
        self._reactor = reactor
        self._threshold = threshold
        self._pool = ThreadPool(minthreads=0, maxthreads=threads, name="gateway-decode")

    def startService(self) -> None:
        super().startService()
        self._pool.start()

    def stopService(self) -> None:
        super().stopService()
        self._pool.stop()  # lets a decode in progress finish

    def __call__(
        self, size: int, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> Deferred[T]:
        if size < self._threshold:
            return maybeDeferred(fn, *args, **kwargs)
        result: Deferred[T] = deferToThreadPool(self._reactor, self._pool, fn, *args, **kwargs)
        return result
