"""A MISP document read, converted and prepared in a second process while this one writes: both cores work.

Converting an event to STIX and preparing its objects (values, markings, JSON) is most of an import's work and
needs no database; writing needs the session. The child (forked by the fork server of ``core.workers``, so it
starts in milliseconds once the server is warm) does the first and sends prepared rows in messages of a few
hundred; this process stores each message's rows as they come, with the same ingest as the in-process path
(``ingest.ingest_prepared``): the same rows and refusals (only the primary keys and the batching of the outbox
events can differ, as the writer stores whatever has arrived whenever nothing more is waiting).

Messages (each pickled once, without the memo: flat, acyclic tuples):

- ``("items", reaches, kinds, rows, places)``: new reaches (numbered on from the earlier ones), then per item its
  reach's number, its prepared row (or refusal) as a plain tuple and its place in the event (where, uuid);
- ``("event", outcome)``: the event is complete (:class:`~herdsec.intel.misp.job.Outcome`);
- ``("refused", uuid, info, reason)``: the event is refused as a whole;
- ``("error", class name, message, where, params)``: the document is refused (malformed JSON, say);
- ``("crash", text)``: the child failed;
- ``("idle",)`` (made here, not sent): no message is waiting.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Generator
from contextlib import closing
from typing import IO, Any

from herdsec.core import errors, workers
from herdsec.core.errors import N_, Text
from herdsec.intel.misp.job import Job, Outcome, audience_of
from herdsec.intel.misp.reader import EventDocument, read_events
from herdsec.intel.misp.vocab import BadValue, Reach
from herdsec.intel.prepare import (
    TOO_DEEP,
    WORKER_MEMORY,
    WORKER_MODULES,
    Context,
    Preparer,
    dump_flat,
    path_of,
    remaining,
    revive,
    second_process_pays,
)
from herdsec.ioc.warninglists import shipped

MESSAGE_ITEMS = 500  # items per message: small enough for the writer to start early, large enough to be cheap
FLUSH_ITEMS = 5000  # objects of an audience the writer stores at most at a time (it also writes when idle)
WRITER_MATCHES = True  # the writer checks values against the warninglists (converting is the longer half)
IN_MEMORY_MAX = 16 * 1024 * 1024  # a document without a file on disk is handed over whole up to this size

Message = tuple[Any, ...]
IDLE: Message = ("idle",)  # no message is waiting


def worth_it(stream: IO[bytes]) -> bool:
    """Whether a second process pays for this document (``prepare.second_process_pays``) and can be given it: a file
    on disk, or one small enough to hand over whole."""
    size = remaining(stream)
    if size is None:
        return False
    if path_of(stream) is None and size > IN_MEMORY_MAX:
        return False  # it would have to be read into memory whole: the in-process path streams it
    return second_process_pays(size)


def messages(stream: IO[bytes], job: Job, context: Context) -> Generator[Message, None, None]:
    """The child's messages for this document, decoded: ``items`` carry ingest audiences and ``Prepared`` or
    ``Refused`` rows, ``event`` an :class:`Outcome`; ``error`` is raised here as the error the child met, ``crash``
    as :class:`~herdsec.core.workers.WorkerFailed`. Close the generator to stop the child early."""
    path = path_of(stream)
    source: str | bytes = path if path is not None else stream.read()
    offset = stream.tell() if path is not None else 0
    payloads = workers.run(
        _work,
        (source, offset, job, context, WORKER_MEMORY),
        modules=WORKER_MODULES,
        what="the MISP reader process",
        meanwhile=shipped,  # the writer checks the warninglists: they compile here while the child starts
        idle=IDLE,
    )
    with closing(payloads):
        for payload in payloads:
            if payload is IDLE:
                yield IDLE  # nothing waiting: the writer may store what it holds
                continue
            message = pickle.loads(payload)  # noqa: S301 - from our own child process
            kind = message[0]
            if kind == "items":
                _kind, reaches, kinds, rows, places = message
                yield ("items", [audience_of(reach) for reach in reaches], kinds, revive(rows), places)
            elif kind == "error":
                _kind, name, text, where, params = message
                raise _error_class(name)(text, where=where, **params)
            elif kind == "crash":
                raise workers.WorkerFailed(f"the MISP reader process failed: {message[1]}")
            elif kind == "event":
                yield ("event", Outcome(*message[1]))
            else:
                yield message


def _error_class(name: str) -> type[errors.HerdsecError]:
    found = getattr(errors, name, None)
    return found if isinstance(found, type) and issubclass(found, errors.HerdsecError) else errors.HerdsecError


def _shared_class(exc: errors.HerdsecError) -> str:
    """The name of the nearest class of ``exc`` that ``core.errors`` defines (what the writer can raise again)."""
    return str(next(c.__name__ for c in type(exc).__mro__ if getattr(errors, c.__name__, None) is c))


# --- in the child ------------------------------------------------------------------------------------------------


def _work(source: str | bytes, offset: int, job: Job, context: Context, memory: int, queue: workers.Outbox) -> None:
    try:
        workers.limit_child(memory)  # a hostile document must not take the machine
        if isinstance(source, bytes):
            stream: IO[bytes] = io.BytesIO(source)
        else:
            stream = open(source, "rb")  # noqa: SIM115 - closed below
            stream.seek(offset)
        with stream:
            for document in read_events(stream, stream_over=job.stream_over):
                _event(document, job, context, queue)
    except errors.HerdsecError as exc:
        queue.put(dump_flat(("error", _shared_class(exc), exc.message, exc.where, dict(exc.params))))
    except MemoryError:  # as the bundle ingest says it: a refusal of the document, not a failure of the hub
        queue.put(
            dump_flat(("error", "InvalidInput", N_("malformed JSON: %(reason)s"), "event", {"reason": Text(TOO_DEEP)}))
        )
    except BrokenPipeError:
        raise  # the writer is gone
    except BaseException as exc:  # reported to the writing process, which raises it
        queue.put(dump_flat(("crash", repr(exc)[:2000])))


def _event(document: EventDocument, job: Job, context: Context, queue: workers.Outbox) -> None:
    converter = job.converter()
    prepare = Preparer(context)
    numbers: dict[Reach, int] = {}
    reaches: list[Reach] = []
    kinds: list[int] = []
    rows: list[tuple[Any, ...]] = []
    places: list[tuple[str, str | None]] = []
    trust = job.trust_built
    last: Reach | None = None  # most items share their event's reach: compared by identity before hashing
    number = 0
    try:
        for index, item in enumerate(converter.convert(document.header, document.attributes, document.objects)):
            if item.reach is not last:
                last = item.reach
                found = numbers.get(last)
                if found is None:
                    found = numbers[last] = len(numbers)
                    reaches.append(last)
                number = found
            kinds.append(number)
            rows.append(tuple(prepare(index, item.obj, item.built if trust else None)))
            places.append((item.where, item.uuid))
            if len(rows) >= MESSAGE_ITEMS:
                queue.put(dump_flat(("items", reaches, kinds, rows, places)))
                reaches, kinds, rows, places = [], [], [], []
    except BadValue as exc:
        uuid = document.header.get("uuid")
        queue.put(dump_flat(("refused", uuid if isinstance(uuid, str) else None, converter.info, str(exc))))
        return
    if rows:
        queue.put(dump_flat(("items", reaches, kinds, rows, places)))
    queue.put(dump_flat(("event", tuple(Outcome.of(converter)))))
