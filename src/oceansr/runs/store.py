"""Atomic writers and tolerant readers for the run directory (docs/architecture.md, run directory).

Two processes share a run directory: the training process (RunRecorder callback) and
any number of controllers (CLI, MCP server, notebooks). They coordinate only through
files, so the rules here are what keeps them consistent:

* ``status.json`` and ``run.json`` are replaced atomically (temp file, fsync, rename,
  fsync of the directory): a reader sees the old or the new document, never half.
* Every read-modify-write happens under the run's ``filelock`` lock (``<run>/.lock``),
  re-entrant within a thread, so a controller marking a run ``killed`` and the trainer
  writing a heartbeat cannot lose each other's changes.
* ``events.jsonl`` is append-only; each event is one ``write`` of one line, with a
  ``seq`` assigned under the lock, so ``seq`` is strictly increasing without gaps.
* Terminal states are final unless the caller explicitly resumes.

filelock is imported lazily so that ``import oceansr.runs`` stays cheap for the CLI.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .exceptions import CorruptRunFileError, RunExistsError, RunLockTimeoutError, RunNotFoundError
from .fileio import drop_torn_tail, open_regular, read_regular
from .ids import is_valid_run_id, run_id_sort_key, validate_kind
from .paths import EVENTS_JSONL, RUN_JSON, STATUS_JSON, RunPaths, default_runs_root
from .protocol import hostname
from .records import (
    IMMUTABLE_STATUS_KEYS,
    ON_EXIT_POLICIES,
    PHASES,
    SCHEMA_VERSION,
    STATUSES,
    TERMINAL_STATUSES,
    empty_status,
    is_terminal,
)

#: Seconds to wait for the run lock; holders keep it for milliseconds, so hitting this
#: means a stuck process, which is better reported than waited on forever.
LOCK_TIMEOUT_S = 10.0

#: How often a waiter retries the lock; holds last about a millisecond, so poll often.
_LOCK_POLL_S = 0.005
_READ_RETRIES = 5
_READ_RETRY_DELAY_S = 0.02
_TAIL_CHUNK = 8192

_RESERVED_EVENT_KEYS = frozenset({"seq", "ts", "run_id", "event"})
_EVENT_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
_IMMUTABLE_RUN_KEYS = ("schema_version", "run_id", "created_at", "kind")
#: status.json keys replaced as a whole rather than deep-merged: a new error summary or
#: kill cause must not inherit stale fields (e.g. a traceback) from an earlier one.
_REPLACED_WHOLE = frozenset({"error_summary", "killed_by"})
#: Cleared when a resume moves a run out of a terminal state, unless given explicitly.
_CLEARED_ON_RESUME = ("ended_at", "exit_code", "error_summary", "killed_by")

JsonDict = dict[str, Any]


# --------------------------------------------------------------------------- time


def now_iso() -> str:
    """Current UTC time as ISO-8601 with milliseconds and a ``Z`` suffix.

    One fixed format everywhere, so timestamps also sort correctly as plain strings.
    """
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Parse a timestamp written by :func:`now_iso` (or any ISO-8601); naive means UTC."""
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# --------------------------------------------------------------------------- JSON


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` to strict JSON types.

    Writers pass numpy/torch scalars, Paths and NaN losses; the files must still parse in
    any strict JSON reader (jq, JavaScript, MCP clients), so non-finite floats become
    ``None``, objects with ``.item()``/``.tolist()`` are unwrapped, and anything else
    unknown becomes its ``str``.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(key): to_jsonable(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(value) for value in obj]
    if isinstance(obj, (set, frozenset)):
        items = [to_jsonable(value) for value in obj]
        with contextlib.suppress(TypeError):
            items.sort()
        return items
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, datetime):
        return obj.isoformat()
    for method in ("item", "tolist"):
        convert = getattr(obj, method, None)
        if callable(convert):
            with contextlib.suppress(TypeError, ValueError, RuntimeError):
                return to_jsonable(convert())
    return str(obj)


def _dumps(obj: Any, *, indent: int | None = None) -> str:
    return json.dumps(to_jsonable(obj), ensure_ascii=False, allow_nan=False, indent=indent)


def _fsync_dir(directory: Path) -> None:
    """Make a rename or create durable; best effort (some file systems refuse it)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Replace ``path`` with ``obj`` as JSON (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, (_dumps(obj, indent=2) + "\n").encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never half.

    Temp file in the same directory (rename is only atomic within a file system), fsync
    before the rename (so a crash cannot leave an empty file under the final name), fsync
    of the directory after it (so the rename itself survives a crash). The temp file is
    created with mode 0o666 minus the umask, like a normal file, so group members can read.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def read_json(path: str | os.PathLike[str]) -> JsonDict:
    """Read a JSON object, retrying briefly on a decode error.

    Files written by :func:`atomic_write_json` are never torn, but a file copied or edited
    by hand (or on a network file system with weaker rename semantics) may be caught
    mid-write; a few short retries ride that out. Raises ``FileNotFoundError`` if missing
    and :class:`CorruptRunFileError` if it stays invalid or is not an object.
    """
    for attempt in range(_READ_RETRIES + 1):
        try:
            doc = json.loads(read_regular(path))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            if attempt == _READ_RETRIES:
                raise CorruptRunFileError(f"{path} is not valid JSON: {exc}") from exc
            time.sleep(_READ_RETRY_DELAY_S)
            continue
        if not isinstance(doc, dict):
            raise CorruptRunFileError(f"{path} holds a JSON {type(doc).__name__}, not an object")
        return doc
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- lock


def _require_run_dir(paths: RunPaths) -> None:
    # filelock creates missing parent directories; without this check a stale id would
    # leave behind a run directory holding nothing but a lock file.
    if not paths.dir.is_dir():
        raise RunNotFoundError(paths.run_id, paths.dir)


@contextlib.contextmanager
def run_lock(paths: RunPaths, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the run's inter-process lock (``<run>/.lock``).

    Re-entrant within a thread (one singleton ``FileLock`` per path, thread-local holds),
    so :func:`transition` can call :func:`update_status` and :func:`append_event` inside
    its own locked section. Other threads and processes wait; after ``timeout`` seconds
    :class:`RunLockTimeoutError` is raised.
    """
    from filelock import FileLock, Timeout

    _require_run_dir(paths)
    lock = FileLock(paths.lock, is_singleton=True, poll_interval=_LOCK_POLL_S)
    try:
        lock.acquire(timeout=timeout)
    except Timeout as exc:
        raise RunLockTimeoutError(
            f"could not lock run {paths.run_id!r} within {timeout:g} s ({paths.lock}); "
            "another process holds it"
        ) from exc
    try:
        yield
    finally:
        lock.release()


# --------------------------------------------------------------------------- run.json


def _run_doc(
    paths: RunPaths,
    *,
    created_at: str,
    kind: str,
    overrides: Iterable[str],
    command: Iterable[str] | None,
    backend: str,
    on_exit: str,
    extra: Mapping[str, Any] | None,
) -> JsonDict:
    doc: JsonDict = {
        "schema_version": SCHEMA_VERSION,
        "run_id": paths.run_id,
        "created_at": created_at,
        "kind": kind,
        "overrides": list(overrides),
        "command": None if command is None else list(command),
        "backend": backend,
        "on_exit": on_exit,
        "host": hostname(),
        "pid": None,
        "pgid": None,
        "process_create_time": None,
        "parent_pid": None,
        "attempts": [],
    }
    clashes = sorted(set(extra or {}) & set(doc))
    if clashes:
        raise ValueError(f"extra run.json fields {clashes} would override standard fields")
    doc.update(extra or {})
    return doc


def _check_create_args(paths: RunPaths, kind: str, on_exit: str) -> None:
    validate_kind(kind)
    if not paths.run_id.startswith(f"{kind}-"):
        raise ValueError(f"run id {paths.run_id!r} does not start with its kind {kind!r}")
    if on_exit not in ON_EXIT_POLICIES:
        raise ValueError(f"on_exit must be one of {ON_EXIT_POLICIES}, got {on_exit!r}")


def create_run(
    paths: RunPaths,
    *,
    kind: str,
    overrides: Iterable[str],
    command: Iterable[str] | None,
    backend: str,
    on_exit: str,
    extra: Mapping[str, Any] | None = None,
) -> JsonDict:
    """Create the run directory with ``run.json``, ``status.json`` and ``run_created``.

    The directory is built under a hidden temporary name and renamed into place, so no
    reader (``list_runs``) ever sees a run directory without its status. Raises
    :class:`RunExistsError` if the run already exists. Returns the ``run.json`` document.
    """
    _check_create_args(paths, kind, on_exit)
    if paths.dir.exists():
        raise RunExistsError(paths.run_id, paths.dir)
    created_at = now_iso()
    run_doc = _run_doc(
        paths,
        created_at=created_at,
        kind=kind,
        overrides=overrides,
        command=command,
        backend=backend,
        on_exit=on_exit,
        extra=extra,
    )
    paths.root.mkdir(parents=True, exist_ok=True)
    staging = paths.root / f".creating-{paths.run_id}-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        atomic_write_json(staging / RUN_JSON, run_doc)
        atomic_write_json(staging / STATUS_JSON, empty_status(paths.run_id, kind, created_at))
        _append_event_unlocked(
            staging / EVENTS_JSONL,
            paths.run_id,
            "run_created",
            {key: run_doc[key] for key in ("kind", "overrides", "command", "backend", "on_exit")},
        )
        _publish_dir(staging, paths)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    return to_jsonable(run_doc)


def _publish_dir(staging: Path, paths: RunPaths) -> None:
    # rename() onto an existing non-empty directory fails, which is what we want.
    if paths.dir.exists():
        raise RunExistsError(paths.run_id, paths.dir)
    try:
        os.rename(staging, paths.dir)
    except OSError as exc:
        if paths.dir.exists():
            raise RunExistsError(paths.run_id, paths.dir) from exc
        raise
    _fsync_dir(paths.root)


def _read_run_file(paths: RunPaths, path: Path) -> JsonDict:
    try:
        return read_json(path)
    except FileNotFoundError:
        _require_run_dir(paths)
        raise CorruptRunFileError(f"run directory {paths.dir} has no {path.name}") from None


def read_run(paths: RunPaths) -> JsonDict:
    """The ``run.json`` document. Raises :class:`RunNotFoundError` if the run is unknown."""
    return _read_run_file(paths, paths.run_json)


def _check_immutable(
    current: Mapping[str, Any], changes: Mapping[str, Any], keys: Iterable[str]
) -> None:
    for key in keys:
        if key in changes and key in current and to_jsonable(changes[key]) != current[key]:
            raise ValueError(f"{key!r} identifies the run and cannot change")


def update_run(paths: RunPaths, **fields: Any) -> JsonDict:
    """Set top-level ``run.json`` fields (pid, pgid, process_create_time, parent_pid, ...).

    Read-modify-write under the run lock; identity fields (run_id, kind, created_at,
    schema_version) cannot change. Returns the new document.
    """
    with run_lock(paths):
        doc = read_run(paths)
        _check_immutable(doc, fields, _IMMUTABLE_RUN_KEYS)
        doc.update(fields)
        doc = to_jsonable(doc)
        atomic_write_json(paths.run_json, doc)
        return doc


def add_attempt(paths: RunPaths, **info: Any) -> JsonDict:
    """Append an attempt record to ``run.json["attempts"]`` under the lock and return it.

    The record gets ``attempt`` (1-based) and ``started_at``; ``info`` carries the rest
    (pid, pgid, process_create_time, resumed_from, ...). Appending under the lock keeps
    two resumes from overwriting each other's record.
    """
    with run_lock(paths):
        doc = read_run(paths)
        attempts = list(doc.get("attempts") or [])
        record = {"attempt": len(attempts) + 1, "started_at": now_iso(), **info}
        attempts.append(record)
        doc["attempts"] = attempts
        atomic_write_json(paths.run_json, doc)
        return to_jsonable(record)


def note_attempt(paths: RunPaths, **info: Any) -> JsonDict | None:
    """Merge ``info`` into the newest attempt record (None when there is none).

    The controller opens an attempt record when it submits a job, on the login node; the
    trainer adds where the attempt really runs (host, node, pid) once it starts, so a
    reader anywhere knows which machine a pid belongs to.
    """
    with run_lock(paths):
        doc = read_run(paths)
        attempts = list(doc.get("attempts") or [])
        if not attempts or not isinstance(attempts[-1], dict):
            return None
        attempts[-1] = {**attempts[-1], **info}
        doc["attempts"] = attempts
        atomic_write_json(paths.run_json, to_jsonable(doc))
        return to_jsonable(attempts[-1])


# --------------------------------------------------------------------------- status.json


def read_status(paths: RunPaths) -> JsonDict:
    """The current ``status.json`` document (lock-free: the file is replaced atomically).

    Raises :class:`RunNotFoundError` if the run does not exist.
    """
    return _read_run_file(paths, paths.status_json)


def deep_merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> JsonDict:
    """Return ``base`` updated with ``changes``; nested dicts merge key by key.

    A dict in ``changes`` merges into a dict in ``base`` (so a writer can update
    ``progress.step`` without resending ``progress``); any other value, ``None``
    included, replaces. Neither argument is modified.
    """
    merged = dict(base)
    for key, value in changes.items():
        old = merged.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = value
    return merged


def _check_status_changes(changes: Mapping[str, Any]) -> None:
    if not isinstance(changes, Mapping):
        raise TypeError(f"changes must be a mapping, got {type(changes).__name__}")
    if "status" in changes and changes["status"] not in STATUSES:
        raise ValueError(f"unknown status {changes['status']!r}; expected one of {STATUSES}")
    if "phase" in changes and changes["phase"] not in PHASES:
        raise ValueError(f"unknown phase {changes['phase']!r}; expected one of {PHASES}")


def _merge_status(current: JsonDict, changes: Mapping[str, Any]) -> JsonDict:
    whole = {key: changes[key] for key in _REPLACED_WHOLE if key in changes}
    nested = {key: value for key, value in changes.items() if key not in whole}
    merged = deep_merge(current, nested)
    merged.update(whole)
    return merged


def update_status(
    paths: RunPaths, changes: Mapping[str, Any], *, allow_terminal_exit: bool = False
) -> JsonDict:
    """Deep-merge ``changes`` into ``status.json`` under the lock; set ``updated_at``.

    Terminal states are final: if the run is ``completed``/``failed``/``killed`` and
    ``changes`` would change ``status``, nothing is written and the unchanged document is
    returned (callers compare ``doc["status"]``), unless ``allow_terminal_exit`` (resume),
    which also clears ``ended_at``/``exit_code``/``error_summary``/``killed_by`` unless
    given. Changes that leave ``status`` alone (a log tail, a final checkpoint path) are
    always applied. ``error_summary`` and ``killed_by`` are replaced as a whole, not
    merged. Returns the document as written.
    """
    _check_status_changes(changes)
    with run_lock(paths):
        current = read_status(paths)
        _check_immutable(current, changes, IMMUTABLE_STATUS_KEYS)
        new_status = changes.get("status", current.get("status"))
        leaving_terminal = is_terminal(current) and new_status != current.get("status")
        if leaving_terminal and not allow_terminal_exit:
            return current
        merged = _merge_status(current, changes)
        if leaving_terminal and not is_terminal(new_status):
            for key in _CLEARED_ON_RESUME:
                if key not in changes:
                    merged[key] = None
        merged["updated_at"] = now_iso()
        merged = to_jsonable(merged)
        atomic_write_json(paths.status_json, merged)
        return merged


def heartbeat(paths: RunPaths, changes: Mapping[str, Any] | None = None) -> JsonDict:
    """Refresh ``heartbeat_at`` (and apply ``changes``, e.g. progress) in one write."""
    return update_status(paths, {**(changes or {}), "heartbeat_at": now_iso()})


def transition(
    paths: RunPaths,
    status: str,
    *,
    event: str | None = None,
    changes: Mapping[str, Any] | None = None,
    allow_terminal_exit: bool = False,
    **payload: Any,
) -> JsonDict:
    """Move the run to ``status`` and append ``event`` (with ``payload``) atomically.

    Both happen in one locked section, the event first: readers take no lock, so a
    reader that sees the new status (e.g. ``completed``) must already find its event
    (e.g. ``training_end`` with the test metrics, ``predict_end`` with the output).
    Entering a terminal state sets ``ended_at`` and ``phase="done"`` unless ``changes``
    gives them; entering ``running`` sets ``started_at`` the first time. A refused
    transition (the run is already terminal, see :func:`update_status`) writes nothing
    and appends no event; repeating the current terminal state is a no-op too, so two
    parties marking a run ``killed`` log it once. Returns the status document.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; expected one of {STATUSES}")
    if event is not None:
        _check_event(event, payload)
    with run_lock(paths):
        current = read_status(paths)
        if is_terminal(current) and (status == current["status"] or not allow_terminal_exit):
            return current
        full = _transition_changes(current, status, changes or {})
        _check_status_changes(full)
        _check_immutable(current, full, IMMUTABLE_STATUS_KEYS)
        if event is not None:
            append_event(paths, event, **payload)
        return update_status(paths, full, allow_terminal_exit=allow_terminal_exit)


def _transition_changes(
    current: Mapping[str, Any], status: str, changes: Mapping[str, Any]
) -> JsonDict:
    full: JsonDict = {**changes, "status": status}
    now = now_iso()
    if status in TERMINAL_STATUSES:
        full.setdefault("ended_at", now)
        full.setdefault("phase", "done")
    elif status == "running" and current.get("started_at") is None:
        full.setdefault("started_at", now)
    return full


# --------------------------------------------------------------------------- events


def _check_event(event: str, payload: Mapping[str, Any]) -> None:
    if not isinstance(event, str) or _EVENT_NAME_RE.fullmatch(event) is None:
        raise ValueError(f"invalid event name {event!r}: expected snake_case, e.g. 'epoch_end'")
    reserved = sorted(_RESERVED_EVENT_KEYS & set(payload))
    if reserved:
        raise ValueError(f"event payload cannot set reserved keys {reserved}")


def _parse_event_line(raw: bytes) -> JsonDict | None:
    """An event dict, or ``None`` for a blank, partial or otherwise invalid line."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        record = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(record, dict):
        return None
    seq = record.get("seq")
    valid_seq = isinstance(seq, int) and not isinstance(seq, bool)
    if not valid_seq or not isinstance(record.get("event"), str):
        return None
    return record


def _tail_state(path: Path) -> tuple[int, bool]:
    """(last seq, whether the file lacks a final newline), reading only the file's tail.

    Reads growing chunks from the end until one complete valid line is found, so the
    cost does not grow with the number of events.
    """
    try:
        handle = os.fdopen(open_regular(path), "rb")
    except FileNotFoundError:
        return 0, False
    with handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return 0, False
        handle.seek(size - 1)
        needs_newline = handle.read(1) != b"\n"
        chunk = _TAIL_CHUNK
        while True:
            start = max(0, size - chunk)
            handle.seek(start)
            lines = handle.read(size - start).split(b"\n")
            if start > 0:
                lines = lines[1:]  # the first piece may be the end of a longer line
            for raw in reversed(lines):
                record = _parse_event_line(raw)
                if record is not None:
                    return record["seq"], needs_newline
            if start == 0:
                return 0, needs_newline
            chunk *= 4


def _append_event_unlocked(
    path: Path, run_id: str, event: str, payload: Mapping[str, Any]
) -> JsonDict:
    last_seq, needs_newline = _tail_state(path)
    record = {"seq": last_seq + 1, "ts": now_iso(), "run_id": run_id, "event": event}
    record.update(to_jsonable(dict(payload)))
    if needs_newline:  # a crashed writer's half line: repaired, so every line parses
        drop_torn_tail(path)
    data = (_dumps(record) + "\n").encode("utf-8")
    # O_NOFOLLOW: an events.jsonl replaced by a link is refused, never appended through.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return to_jsonable(record)


def append_event(paths: RunPaths, event: str, **payload: Any) -> JsonDict:
    """Append one event line ``{"seq", "ts", "run_id", "event", **payload}`` and return it.

    ``seq`` is the last seq + 1, computed under the run lock, so it is strictly increasing
    without gaps across processes. The line goes out in one ``write`` followed by fsync.
    """
    _check_event(event, payload)
    with run_lock(paths):
        return _append_event_unlocked(paths.events_jsonl, paths.run_id, event, payload)


def _name_filter(names: str | Iterable[str] | None) -> frozenset[str] | None:
    if names is None:
        return None
    return frozenset([names] if isinstance(names, str) else names)


def _filter_events(data: bytes, after_seq: int, names: frozenset[str] | None) -> list[JsonDict]:
    events = []
    for raw in data.split(b"\n"):
        record = _parse_event_line(raw)
        if record is None or record["seq"] <= after_seq:
            continue
        if names is None or record["event"] in names:
            events.append(record)
    return events


def read_events(
    paths: RunPaths, after_seq: int = 0, names: str | Iterable[str] | None = None
) -> list[JsonDict]:
    """Events with ``seq > after_seq`` (optionally only those named in ``names``), in order.

    Tolerant by design: blank, partial (a writer crashed or is mid-write) and invalid lines
    are skipped; events with unknown names are returned unchanged for the caller to ignore.
    A run without an events file yields ``[]``; an unknown run raises
    :class:`RunNotFoundError`.
    """
    try:
        data = read_regular(paths.events_jsonl)
    except FileNotFoundError:
        _require_run_dir(paths)
        return []
    return _filter_events(data, after_seq, _name_filter(names))


def tail_events(
    paths: RunPaths, offset: int = 0, names: str | Iterable[str] | None = None
) -> tuple[list[JsonDict], int]:
    """Events from byte ``offset`` on, and the offset to pass next time.

    For pollers (``start`` waiting for ``training_start``, ``wait``): each call reads only
    what was appended since the last one. Only newline-terminated lines are consumed, so
    a line being written now is picked up whole by the next call.
    """
    try:
        with os.fdopen(open_regular(paths.events_jsonl), "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        _require_run_dir(paths)
        return [], offset
    complete = data.rfind(b"\n") + 1
    events = _filter_events(data[:complete], 0, _name_filter(names))
    return events, offset + complete


# --------------------------------------------------------------------------- listing


def list_run_dirs(root: str | os.PathLike[str] | None = None) -> list[RunPaths]:
    """Runs under ``root`` (default :func:`default_runs_root`), newest first.

    Only directories named like run ids count, and links named like run ids, which are
    not followed here: whether one leads to a real run inside the root is for the
    reader to check (:func:`oceansr.runs.fileio.check_run_dir`), so a link loop or a
    link out of the root becomes that run's unreadable row, not a failure of the whole
    listing. Anything else (a user's notes, a half-created ``.creating-*`` directory)
    is ignored. A missing root has no runs.
    """
    base = default_runs_root() if root is None else Path(root)
    try:
        entries = list(os.scandir(base))
    except FileNotFoundError:
        return []
    ids = [e.name for e in entries if is_valid_run_id(e.name) and _dir_or_link(e)]
    ids.sort(key=run_id_sort_key, reverse=True)
    return [RunPaths(base, run_id) for run_id in ids]


def _dir_or_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False) or entry.is_symlink()
    except OSError:  # vanished while listing
        return False
