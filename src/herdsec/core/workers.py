"""Second processes for CPU-bound work (preparing a large bundle, converting a MISP event), started cheaply and safely.

A threaded server must not fork itself (a lock another thread holds stays locked in the child), and a spawned
process pays for importing the hub again (about 1.5 s here), which is longer than a 10k-attribute import takes.
A fork server avoids both: one small single-threaded process, started once with the modules the work needs
already imported, forks a child for each job (a few milliseconds). The server starts it when it starts (``warm``);
a command-line run that never warmed it still gets one on first use, paying the start once.

A child sends its results through a pipe whose writing end only the child holds: when the child dies, even in the
middle of a message, the reader sees the end of the pipe at once; when the reader goes away, the child's next send
fails and the child ends. At most as many children run at once as the machine has cores.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue as queue_module
import resource
import threading
from collections.abc import Callable, Generator, Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext
from typing import Any

from herdsec.core.bulk import BULK_GC_THRESHOLD

_lock = threading.Lock()
_warm = False
_slots = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))  # children running at once


class WorkerFailed(RuntimeError):
    """A second process stopped without finishing its job (killed, out of memory, or a bug)."""


def context() -> ForkServerContext:
    """The multiprocessing context for the hub's second processes (never a plain fork of this process)."""
    return multiprocessing.get_context("forkserver")


def warm(modules: Sequence[str], *, wait_ready: bool = False) -> None:
    """Start the fork server with ``modules`` imported (once per process; later calls only wait when asked).

    The server also imports this process's main script (as ``__mp_main__``: its ``__main__`` guard keeps it from
    doing anything), so that the children need not each run it again as multiprocessing otherwise does (for
    ``herdsec serve`` that would import the whole command line per job). With ``wait_ready`` the call returns once
    the server has imported everything and forked a first child (the next job starts at once)."""
    global _warm
    with _lock:
        if not _warm:
            context().set_forkserver_preload(["__main__", *modules])
            from multiprocessing import forkserver

            forkserver.ensure_running()
            _warm = True
    if wait_ready:
        first = context().Process(target=_nothing, daemon=True)
        first.start()
        first.join()


def is_warm() -> bool:
    """Whether this process started the fork server (jobs then start in milliseconds)."""
    return _warm


def _nothing() -> None:
    return None


def limit_child(memory: int) -> None:
    """In a child: cap its address space at ``memory`` bytes (a hostile document must not take the machine; never
    above the hard limit the host sets) and collect garbage less often (a child only reads and builds)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    gc.set_threshold(BULK_GC_THRESHOLD, 10, 10)  # see bulk.fewer_collections


class Outbox:
    """What a child puts its results in: a bounded buffer that a thread sends down the pipe, so that the child goes
    on working while the reader is busy (at most ``backlog`` results wait). ``put`` raises BrokenPipeError once the
    reader is gone."""

    def __init__(self, pipe: Connection, backlog: int) -> None:
        self._pipe = pipe
        self._buffer: queue_module.Queue[Any] = queue_module.Queue(maxsize=backlog)
        self._broken = threading.Event()
        self._thread = threading.Thread(target=self._send, daemon=True)
        self._thread.start()

    def put(self, item: Any) -> None:
        while True:
            if self._broken.is_set():
                raise BrokenPipeError("the reader of this job is gone")
            try:
                self._buffer.put(item, timeout=1.0)
                return
            except queue_module.Full:
                continue

    def close(self) -> None:
        """Send what is buffered, then the end of the job (None)."""
        if not self._broken.is_set():
            self._buffer.put(_END)
            self._thread.join()
        self._pipe.close()

    def _send(self) -> None:
        while True:
            item = self._buffer.get()
            try:
                self._pipe.send(None if item is _END else item)
            except OSError:  # the reader closed its end
                self._broken.set()
                return
            if item is _END:
                return


_END = object()


def _child(target: Callable[..., None], args: tuple[Any, ...], pipe: Connection, backlog: int) -> None:
    outbox = Outbox(pipe, backlog)
    try:
        target(*args, outbox)
    except BrokenPipeError:
        pipe.close()  # the reader stopped early: nothing more to do
        return
    except BaseException:
        pipe.close()  # no end of the job: the reader raises WorkerFailed, never taking a part for the whole
        raise
    outbox.close()


def run(
    target: Callable[..., None],
    args: tuple[Any, ...],
    *,
    modules: Sequence[str],
    what: str,
    backlog: int = 8,
    meanwhile: Callable[[], object] | None = None,
    idle: object = None,
) -> Generator[Any, None, None]:
    """Run ``target(*args, outbox)`` in a child of the fork server and yield what it puts in ``outbox``
    (:class:`Outbox`) until it returns. At most ``backlog`` results wait to be read, so the child cannot run far
    ahead of the reader: memory holds a few results, not the whole job. A child that dies raises
    :class:`WorkerFailed` naming ``what``; the child is stopped when the reader stops early (close the generator:
    an error while writing what it sent, say). ``meanwhile`` runs here while the child starts. When ``idle`` is
    given, it is yielded each time nothing is waiting (before waiting): the reader may do pending work then."""
    warm(modules)
    ctx = context()
    with _slots:
        reader, writer = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_child, args=(target, args, writer, backlog), daemon=True)
        process.start()
        writer.close()  # only the child writes: its death ends the pipe
        try:
            if meanwhile is not None:
                meanwhile()
            while True:
                if idle is not None and not reader.poll():
                    yield idle
                if not wait([reader, process.sentinel], timeout=1.0):
                    continue
                if not reader.poll():  # the child ended and sent nothing more
                    raise WorkerFailed(f"{what} stopped unexpectedly (exit code {process.exitcode})")
                try:
                    item = reader.recv()
                except EOFError:  # ended in the middle of a message
                    process.join(timeout=10)
                    raise WorkerFailed(f"{what} stopped unexpectedly (exit code {process.exitcode})") from None
                if item is None:
                    break
                yield item
        finally:
            reader.close()
            if process.is_alive():
                process.terminate()
            process.join(timeout=10)
