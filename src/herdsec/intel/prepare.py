"""Turning parsed STIX objects into rows ready to store (pure CPU work: validation, values, markings, JSON).

This is most of an ingest's work, so it can run in a second process while the first one writes to the database
(:func:`prepared_batches` with ``parallel=True``): both cores are used on large bundles.
"""

from __future__ import annotations

import io
import os
import pickle
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, NamedTuple

import ijson  # type: ignore[import-untyped]
import orjson

from herdsec.core import workers
from herdsec.core.bulk import db_datetime
from herdsec.core.errors import N_
from herdsec.identity.visibility import Tlp, effective_tlp, normalise_marking
from herdsec.intel import stix
from herdsec.intel.extract import KEY_LIMIT, ObjectRejected, value_key, values_of
from herdsec.ioc.warninglists import Hit, shipped

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_new = tuple.__new__
ONE_US = timedelta(microseconds=1)
BATCH = 5000
# Below these a second process costs more than it saves: without a warm fork server (a command-line run) starting
# one costs about a second; with one (the server, see core.workers) a child pays from about a thousand objects.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
WARM_PARALLEL_MIN_BYTES = 256 * 1024
PRECHECK_MAX_BYTES = 64 * 1024 * 1024  # documents read whole for a nesting check (in-process path)
WORKER_MEMORY = 3 * 1024 * 1024 * 1024  # address-space cap of the reading process
# What the hub's second processes import before forking (see core.workers): bundle preparation and MISP conversion.
WORKER_MODULES = ("herdsec.intel.preload",)
TIMES_KEPT = 65_536  # parsed timestamps kept by a preparer
LEVELS_KEPT = 1024  # marking combinations kept by a preparer
MILLISECOND_RE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})Z")
EPOCH_DAY = date(1970, 1, 1)


class Prepared(NamedTuple):
    """An object ready to store (a named tuple: it crosses between processes and pickles fast)."""

    position: int  # in the bundle's objects list
    stix_id: str
    obj_type: str
    modified_us: int  # microseconds since the epoch: the version key
    revoked: bool
    tlp: int
    name: str | None
    data: str
    created_db: Any  # created / modified as the database stores them
    modified_db: Any
    # type, value, key, problem, the warninglists that list it (None until checked: see Context.match_lists)
    values: list[tuple[str, str, str, str | None, str | None]]
    tags: list[tuple[str, str]]  # (kind, value): labels and ATT&CK technique ids the object carries
    technique_link: tuple[str, str] | None  # a relationship's (source id, attack-pattern id)
    unresolved: tuple[str, ...]  # the markings, when one is unknown here (it may be defined later in the bundle)


class Built(NamedTuple):
    """What the hub's own converter (the MISP import) knows of an object it built, handed to the preparer so that
    nothing is worked out twice. Such an object is valid STIX by construction — its ids, timestamps and structure
    are made by the converter, which checks every outside string it copies in (and names the element when one is
    refused; the event's report passes ``stix.check`` with one of its own references standing for all) — so the
    per-object ``stix.check`` is skipped, and so is the ownership check: its id is the converter's own and an SDO
    names the sharing organization in ``created_by_ref``. ``pairs`` are an indicator's
    pattern's ``indexable(parse(pattern))`` pairs, None for other objects (their values come from the object as
    usual); the values are normalised and warninglist-checked exactly as on the general path. Never built from
    input."""

    pairs: tuple[tuple[str, str], ...] | None = None
    seconds: int | None = None  # created and modified, when the builder wrote both from these whole seconds


class Refused(NamedTuple):
    position: int
    id: str | None
    reason: str


class SyntaxProblem(Exception):
    """The JSON broke while streaming (raised in the reading process, re-raised in the writing one)."""


@dataclass(frozen=True, slots=True)
class Context:
    """What preparing needs to know about the submission (picklable: it crosses to the reading process)."""

    default_tlp: Tlp
    statements: frozenset[str]  # statement markings the sharer itself stored before: they restrict nothing
    own_identity: str  # identity--<uuid> of the sharing organization
    member_identities: frozenset[str]  # identity ids of every member organization
    dialect: str = "sqlite"  # timestamps are formatted for the database here, off the writing process
    match_lists: bool = True  # check values against the warninglists here (False: the writer does, to balance work)


class Preparer:
    def __init__(self, context: Context) -> None:
        self.default_tlp, self.statements = context.default_tlp, context.statements
        self.own, self.members = context.own_identity, context.member_identities
        self.dialect = context.dialect
        self._times: dict[str, tuple[int, Any]] = {}  # timestamp text -> (microseconds, stored form)
        self._days: dict[str, int | None] = {}  # YYYY-MM-DD -> days since the epoch (None: not a date)
        self._levels: dict[tuple[str, ...], tuple[list[str], Tlp, tuple[str, ...]]] = {}  # by object_marking_refs
        self._zone = "" if self.dialect == "sqlite" else "+00:00"
        self._match = shipped().match_text if context.match_lists else None

    def _identity_problem(self, obj: dict[str, Any]) -> str | None:
        return _identity_problem_impl(self.own, self.members, obj)

    def _time(self, text: object) -> tuple[int, Any] | None:
        """A valid timestamp's microseconds since the epoch and stored form (kept: timestamps recur), else None."""
        if not isinstance(text, str):
            return None
        known = self._times.get(text)
        if known is None:
            known = self._millisecond_time(text) if len(text) == 24 else None
            if known is None:
                moment = stix.parse_timestamp(text)
                if moment is None:
                    return None
                known = ((moment - EPOCH) // ONE_US, stored_time(self.dialect, moment))
            if len(self._times) >= TIMES_KEPT:
                self._times.clear()
            self._times[text] = known
        return known

    def _millisecond_time(self, text: str) -> tuple[int, Any] | None:
        """What :meth:`_time` gives for ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (how most producers, and the hub's own
        converters, write timestamps), by arithmetic: no datetime is built. None for any other text."""
        match = MILLISECOND_RE.match(text)
        if match is None:
            return None
        day, hour, minute, second, milli = match.groups()
        if day in self._days:
            days = self._days[day]
        else:
            try:
                days = (date.fromisoformat(day) - EPOCH_DAY).days
            except ValueError:
                days = None
            if len(self._days) >= TIMES_KEPT:
                self._days.clear()
            self._days[day] = days
        if days is None or int(hour) > 23 or int(minute) > 59 or int(second) > 59:
            return None  # not a real instant: the general parser says so
        seconds = days * 86_400 + int(hour) * 3600 + int(minute) * 60 + int(second)
        return seconds * 1_000_000 + int(milli) * 1000, f"{day} {text[11:19]}.{milli}000{self._zone}"

    def _marking_level(self, refs: list[str]) -> tuple[list[str], Tlp, tuple[str, ...]]:
        """Normalised markings, TLP and unresolved markings of an object without granular markings (kept:
        a submission uses a handful of marking combinations)."""
        key = tuple(refs)
        known = self._levels.get(key)
        if known is None:
            markings = [normalise_marking(m) for m in refs]
            level = effective_tlp(markings, known_other=self.statements, default=self.default_tlp)
            known = (markings, level, tuple(markings) if level is Tlp.UNKNOWN else ())
            if len(self._levels) < LEVELS_KEPT:
                self._levels[key] = known
        return known

    def __call__(self, index: int, obj: Any, built: Built | None = None) -> Prepared | Refused:
        """``obj`` ready to store, or why it is refused. ``built``: the object is the hub's own (see :class:`Built`)."""
        # A built object's id is the builder's own and it names the sharer as its creator (see Built).
        problem = None if built is not None else stix.check(obj) or _identity_problem_impl(self.own, self.members, obj)
        if problem is not None:
            obj_id = obj.get("id") if isinstance(obj, dict) else None
            return Refused(index, obj_id if isinstance(obj_id, str) else None, problem)
        try:
            values = values_of(obj, None if built is None else built.pairs)
        except ObjectRejected as exc:
            return Refused(index, obj["id"], exc.render())
        obj_type = obj["type"]
        refs = obj.get("object_marking_refs")
        granular = obj.get("granular_markings")
        if refs and not granular:
            markings, level, unresolved = self._marking_level(refs)
            if markings != refs:
                obj["object_marking_refs"] = list(markings)
        elif refs or granular:
            markings = [normalise_marking(m) for m in refs or []]
            if refs and markings != refs:
                obj["object_marking_refs"] = markings
            # A part marked more strictly makes the whole object that strict (we do not redact parts).
            extra = [
                normalise_marking(m) if isinstance(m, str) else "unknown"
                for m in (g.get("marking_ref") for g in granular or [] if isinstance(g, dict))
            ]
            level = effective_tlp(markings + extra, known_other=self.statements, default=self.default_tlp)
            unresolved = tuple(markings + extra) if level is Tlp.UNKNOWN else ()
        else:
            level, unresolved = self.default_tlp, ()
        rows = []
        match = self._match
        for value in values:
            text = value.value
            hits = match(value.type, text) if match is not None else None
            rows.append(
                (
                    value.type._value_,  # the enum's text, without the descriptor of ``.value``
                    text,
                    text if len(text) <= KEY_LIMIT else value_key(text),
                    value.problem[:200] if value.problem else None,
                    listed_in(hits),
                )
            )
        created: tuple[int, Any] | None
        if built is not None and built.seconds is not None:
            # created and modified are the builder's text of these whole seconds: YYYY-MM-DDTHH:MM:SS.000Z
            text = obj["created"]
            modified = created = (built.seconds * 1_000_000, f"{text[:10]} {text[11:19]}.000000{self._zone}")
        else:
            created_text = obj.get("created")
            modified = self._time(obj.get("modified") or created_text) or self._epoch
            created = self._time(created_text)
        return _new(  # Prepared(...) without its Python-level __new__ (this runs once per object)
            Prepared,
            (
                index,
                obj["id"],
                obj_type,
                modified[0],
                obj.get("revoked") is True,
                int(level),
                stix.display_name(obj),
                orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode(),
                None if created is None else created[1],
                modified[1],
                rows,
                tags_of(obj) if "labels" in obj or "external_references" in obj else [],
                _technique_link(obj) if obj_type == "relationship" else None,
                unresolved,
            ),
        )

    @property
    def _epoch(self) -> tuple[int, Any]:
        return (0, stored_time(self.dialect, EPOCH))


def listed_in(hits: list[Hit] | None) -> str | None:
    """The names of the warninglists that list a value, as ``observables.warninglists`` stores them; None for none."""
    return ",".join(sorted({h.list_name for h in hits}))[:400] if hits else None


def stored_time(dialect: str, moment: datetime) -> Any:
    """A timestamp as bulk inserts write it: SQLite's naive UTC text (as SQLAlchemy stores it), ISO text with the
    offset for PostgreSQL (text is what COPY reads, and it crosses between processes cheaper than a datetime)."""
    if dialect == "sqlite":
        return db_datetime(dialect, moment)
    return moment.astimezone(UTC).isoformat(" ", "microseconds")


def _identity_problem_impl(own: str, members: frozenset[str], obj: dict[str, Any]) -> str | None:
    if obj["id"] in members and obj["id"] != own:
        return "this identity is another member organization's; only that organization may publish it"
    creator = obj.get("created_by_ref")
    if isinstance(creator, str) and creator in members and creator != own:
        return "created_by_ref names another member organization; share only what your organization created"
    if creator is None and stix.category(obj["type"]) in ("sdo", "sro"):
        obj["created_by_ref"] = own  # the sharing member is the creator of record
    return None


TECHNIQUE_RE = re.compile(r"^T\d{4}(\.\d{3})?$")


def tags_of(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """Labels (lowercased) and the ATT&CK techniques an object cites in its external references."""
    tags: set[tuple[str, str]] = set()
    labels = obj.get("labels")
    if isinstance(labels, list):
        tags.update(("label", label.strip().lower()[:200]) for label in labels if isinstance(label, str) and label)
    refs = obj.get("external_references")
    if isinstance(refs, list):
        for ref in refs:
            if not isinstance(ref, dict):
                continue
            source, ext = ref.get("source_name"), ref.get("external_id")
            if (
                isinstance(source, str)
                and source.startswith("mitre")
                and isinstance(ext, str)
                and TECHNIQUE_RE.match(ext)
            ):
                tags.add(("technique", ext))
    return sorted(tags)


def _technique_link(obj: dict[str, Any]) -> tuple[str, str] | None:
    target = obj.get("target_ref")
    if obj["type"] == "relationship" and isinstance(target, str) and target.startswith("attack-pattern--"):
        return (obj["source_ref"], target)
    return None


def prepare_stream(stream: IO[bytes], preparer: Preparer, batch: int = BATCH) -> Iterator[list[Prepared | Refused]]:
    """Batches of prepared objects from a bundle's ``objects`` list, read incrementally."""
    items: list[Prepared | Refused] = []
    try:
        for index, obj in enumerate(ijson.items(stream, "objects.item", use_float=True)):
            items.append(preparer(index, obj))
            if len(items) >= batch:
                yield items
                items = []
    except ijson.JSONError as exc:
        raise SyntaxProblem(str(exc)) from None
    if items:
        yield items


def remaining(stream: IO[bytes]) -> int | None:
    try:
        here = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(here)
        return end - here
    except (OSError, ValueError):
        return None


def prechecked(stream: IO[bytes]) -> IO[bytes]:
    """Refuse absurd nesting before the streaming parser sees it: its memory grows with the square of the depth
    (a 400 KB document nested 200,000 deep needs gigabytes). orjson, in C and bounded at 1,024 levels, checks
    small documents in milliseconds; large files are parsed in a memory-capped second process instead."""
    data = stream.read()
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc):
            raise SyntaxProblem(f"nested deeper than the parser allows ({exc})") from None
        raise SyntaxProblem(str(exc)) from None
    return io.BytesIO(data)


def _worker(path: str, offset: int, context: Context, memory: int, outbox: workers.Outbox) -> None:
    try:
        workers.limit_child(memory)  # a hostile document (deep nesting) must not take the machine's memory
        preparer = Preparer(context)
        with open(path, "rb") as handle:
            handle.seek(offset)
            for items in prepare_stream(handle, preparer):
                outbox.put(pack(items))
    except SyntaxProblem as exc:
        outbox.put(("syntax", str(exc)))
    except MemoryError:
        outbox.put(("syntax", TOO_DEEP))
    except BrokenPipeError:
        raise  # the reader is gone
    except BaseException as exc:
        outbox.put(("error", repr(exc)))


TOO_DEEP = N_("the document needs more memory than allowed (is it nested absurdly deep?)")


def pack(items: list[Prepared | Refused]) -> bytes:
    """A batch as bytes for the queue: plain tuples (a named tuple pickles through ``copyreg``)."""
    return dump_flat([tuple(item) for item in items])


def dump_flat(value: Any) -> bytes:
    """``value`` pickled without the memo (it costs a dictionary entry per object, and flat, acyclic data such as
    rows and messages does not need it)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(value)
    return buffer.getvalue()


def unpack(payload: bytes) -> list[Prepared | Refused]:
    """The batch :func:`pack` made."""
    return revive(pickle.loads(payload))  # noqa: S301 - from our own reader process


def revive(rows: list[tuple[Any, ...]]) -> list[Prepared | Refused]:
    """Prepared rows and refusals sent as plain tuples (rows of three fields are refusals)."""
    return [_new(Refused, row) if len(row) == 3 else _new(Prepared, row) for row in rows]


def path_of(stream: IO[bytes]) -> str | None:
    """The path of the file a stream reads, when it is one on disk (a second process can then open it itself)."""
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) and os.path.isfile(name) else None


def second_process_pays(size: int) -> bool:
    """Whether preparing a document of ``size`` bytes in a second process pays (for bundles and MISP events alike):
    more than one core, and more work than starting the child costs."""
    least = WARM_PARALLEL_MIN_BYTES if workers.is_warm() else PARALLEL_MIN_BYTES
    return (os.cpu_count() or 1) > 1 and size >= least


def runs_in_parallel(stream: IO[bytes], parallel: bool) -> bool:
    """Whether :func:`prepared_batches` will use a second process for this stream (a file on disk that it pays for)."""
    path = path_of(stream)
    return bool(parallel and path and second_process_pays(os.path.getsize(path)))


def prepared_batches(
    stream: IO[bytes], context: Context, *, parallel: bool = True
) -> Iterator[list[Prepared | Refused]]:
    """Prepared objects in batches; in a second process when the bundle is a large file on disk."""
    path = path_of(stream)
    if path is None or not runs_in_parallel(stream, parallel):
        yield from prepare_stream(stream, Preparer(context))
        return
    for item in workers.run(
        _worker,
        (path, stream.tell(), context, WORKER_MEMORY),
        modules=WORKER_MODULES,
        what="the bundle reader process",
        backlog=3,  # the reader cannot run far ahead of the writer (memory)
    ):
        if isinstance(item, tuple):
            kind, message = item
            if kind == "syntax":
                raise SyntaxProblem(message)
            raise RuntimeError(f"the bundle reader failed: {message}")
        yield unpack(item)
