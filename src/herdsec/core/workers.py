"""Second processes for CPU-bound work (preparing a large bundle, converting a MISP event), started cheaply and safely.

A threaded server must not fork itself (a lock another thread holds stays locked in the child), and a spawned
process pays for importing the hub again (about 1.5 s here), which is longer than a 10k-attribute import takes.
A fork server avoids both: one small single-threaded process, started once with the modules the work needs
already imported, forks a child for each job (a few milliseconds). The server starts it when it starts (``warm``);
a command-line run that never warmed it still gets one on first use, paying the start once.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import threading
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.context import ForkServerContext
from typing import Any

_lock = threading.Lock()
_warm = False


def context() -> ForkServerContext:
    """The multiprocessing context for the hub's second processes (never a plain fork of this process)."""
    return multiprocessing.get_context("forkserver")


def warm(modules: Sequence[str], *, wait: bool = False) -> None:
    """Start the fork server with ``modules`` imported (once per process; later calls only wait when asked).

    The server also imports this process's main script (as ``__mp_main__``: its ``__main__`` guard keeps it from
    doing anything), so that the children need not each run it again as multiprocessing otherwise does (for
    ``herdsec serve`` that would import the whole command line per job). With ``wait`` the call returns once the
    server has imported everything and forked a first child (the next job starts at once)."""
    global _warm
    with _lock:
        if not _warm:
            context().set_forkserver_preload(["__main__", *modules])
            from multiprocessing import forkserver

            forkserver.ensure_running()
            _warm = True
    if wait:
        first = context().Process(target=_nothing, daemon=True)
        first.start()
        first.join()


def is_warm() -> bool:
    """Whether this process started the fork server (jobs then start in milliseconds)."""
    return _warm


def _nothing() -> None:
    return None


def run(
    target: Callable[..., None],
    args: tuple[Any, ...],
    *,
    modules: Sequence[str],
    what: str,
    backlog: int = 8,
    meanwhile: Callable[[], object] | None = None,
    idle: object = None,
) -> Iterator[Any]:
    """Run ``target(*args, queue)`` in a child of the fork server and yield what it puts on ``queue`` until it puts
    None (its last word, which it must also say after a failure). The queue is bounded (``backlog`` messages), so
    the child cannot run far ahead of the reader: memory holds a few messages, not the whole job. A child that
    stops without its last word raises RuntimeError naming ``what``; the child is stopped when the reader stops
    early (an error while writing what it sent, say). ``meanwhile`` runs here while the child starts. When ``idle``
    is given, it is yielded each time the queue is found empty (before waiting): the reader may do pending work."""
    warm(modules)
    ctx = context()
    queue = ctx.Queue(maxsize=backlog)
    process = ctx.Process(target=target, args=(*args, queue), daemon=True)
    process.start()
    try:
        if meanwhile is not None:
            meanwhile()
        while True:
            if idle is not None and queue.empty():
                yield idle
            try:
                item = queue.get(timeout=1.0)
            except queue_module.Empty:
                if not process.is_alive():  # died without a word (killed, or could not start)
                    raise RuntimeError(f"{what} stopped unexpectedly (exit code {process.exitcode})") from None
                continue
            if item is None:
                break
            yield item
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=10)
        queue.close()
