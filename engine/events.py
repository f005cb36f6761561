"""The worker -> session event stream: versioned JSON lines, batched, with one typed schema.

Steps are buffered in the worker and written as one ``steps`` line of columns every ~50 ms or
every 512 steps, so recording a step costs a list append (well under 5 microseconds) and
the pipe sees a few writes a second. Everything else (ready, epoch, error, done, ...) is one
line each. Every line carries ``"v": 1``; a reader refuses other versions.

Each ``type`` has one frozen dataclass below, registered in ``EVENT_TYPES``; ``parse_line``
returns those objects, so every consumer dispatches on the class (``isinstance``) and a field
that a producer renames fails at the parser, not silently in one of four consumers. The wire
format is unchanged: the dataclasses only describe it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from typing import Any, ClassVar

VERSION = 1
STEP_FIELDS = (
    "step",
    "epoch",
    "loss",
    "step_time_s",
    "samples",
    "rss_bytes",
    "device_bytes",
    "wall_s",
)
FLUSH_EVERY_S = 0.05
FLUSH_EVERY_STEPS = 512


class ProtocolError(ValueError):
    """A line that is not a v1 event of a known type with all its fields."""


@dataclass(frozen=True)
class Event:
    """Base of every event; ``type`` is the wire name, the fields are the line's other keys."""

    type: ClassVar[str] = ""

    def as_dict(self) -> dict[str, Any]:
        """The fields without ``v`` and ``type`` (the form the session keeps epochs and done in)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def to_wire(self) -> dict[str, Any]:
        return {"v": VERSION, "type": self.type, **self.as_dict()}


@dataclass(frozen=True)
class Steps(Event):
    """A batch of step records, as columns of equal length in STEP_FIELDS order."""

    type: ClassVar[str] = "steps"
    step: list[int]
    epoch: list[int]
    loss: list[float]
    step_time_s: list[float]
    samples: list[int]
    rss_bytes: list[int]
    device_bytes: list[int | None]
    wall_s: list[float]

    @property
    def columns(self) -> dict[str, list]:
        """The batch as {field: column}, the form numpy buffers and CSV writers take."""
        return {name: getattr(self, name) for name in STEP_FIELDS}

    def __len__(self) -> int:
        return len(self.step)


@dataclass(frozen=True)
class Warm(Event):
    """A pre-started worker has imported its framework and waits for its job."""

    type: ClassVar[str] = "warm"
    framework: str
    pid: int
    preload_s: float


@dataclass(frozen=True)
class Ready(Event):
    """The worker built its model; ``info`` describes framework, device, threads, timings."""

    type: ClassVar[str] = "ready"
    info: dict[str, Any]


@dataclass(frozen=True)
class Epoch(Event):
    type: ClassVar[str] = "epoch"
    epoch: int
    train_loss: float
    val_loss: float | None
    val_accuracy: float | None
    epoch_time_s: float
    steps: int  # steps so far, the epoch's last step


@dataclass(frozen=True)
class Compiled(Event):
    """The step traced or compiled (again) during step ``step``: ``graphs`` is the total so far,
    ``step_time_s`` that step's time, compile included (engine.backends.base.Backend.compiles)."""

    type: ClassVar[str] = "compiled"
    step: int
    graphs: int
    step_time_s: float


@dataclass(frozen=True)
class Exports(Event):
    """Model files this worker wrote (one entry per format)."""

    type: ClassVar[str] = "exports"
    entries: list[dict[str, Any]]


@dataclass(frozen=True)
class Paused(Event):
    type: ClassVar[str] = "paused"


@dataclass(frozen=True)
class Resumed(Event):
    type: ClassVar[str] = "resumed"


@dataclass(frozen=True)
class Yield(Event):
    """Out of step budget (alternate and sequential schedules): the other framework's turn."""

    type: ClassVar[str] = "yield"


@dataclass(frozen=True)
class Error(Event):
    """The worker failed or stopped itself (memory cap, a non-finite loss); it ends its run."""

    type: ClassVar[str] = "error"
    message: str
    step: int | None = None
    traceback: str | None = None


@dataclass(frozen=True)
class Done(Event):
    """The worker's last event of a run that finished or was stopped."""

    type: ClassVar[str] = "done"
    status: str  # finished or stopped
    steps: int
    peak_rss_bytes: int
    peak_device_bytes: int | None
    train_s: float
    stop_latency_s: float | None = None  # absent from an export-only run


@dataclass(frozen=True)
class Status(Event):
    """Not from a worker: the session's own word that a framework's status changed."""

    type: ClassVar[str] = "status"
    status: str
    error: str | None = None


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        Steps,
        Warm,
        Ready,
        Epoch,
        Compiled,
        Exports,
        Paused,
        Resumed,
        Yield,
        Error,
        Done,
        Status,
    )
}
# type -> (every field, the required ones), computed once: parsing runs a few times a second
_FIELDS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    name: (
        tuple(f.name for f in dataclasses.fields(cls)),
        frozenset(
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ),
    )
    for name, cls in EVENT_TYPES.items()
}
assert _FIELDS["steps"][0] == STEP_FIELDS


class EventWriter:
    """Writes events to a file descriptor; step records are batched."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._pending: list[tuple] = []
        self._last_flush = time.perf_counter()

    def emit(self, kind: str | Event, **fields: Any) -> None:
        """Write one event now (after any pending steps, so order is kept): an Event, or its
        type name and fields. An unknown type is refused here, in the worker that wrote it."""
        if isinstance(kind, Event):
            payload = kind.to_wire()
        elif kind in EVENT_TYPES:
            payload = {"v": VERSION, "type": kind, **fields}
        else:
            raise ProtocolError(f"unknown event type {kind!r}")
        self.flush()
        self._write(json.dumps(payload, separators=(",", ":")) + "\n")

    def step(self, record: tuple) -> None:
        """Queue one step record (a tuple in STEP_FIELDS order)."""
        self._pending.append(record)
        if (
            len(self._pending) >= FLUSH_EVERY_STEPS
            or time.perf_counter() - self._last_flush >= FLUSH_EVERY_S
        ):
            self.flush()

    def flush(self) -> None:
        self._last_flush = time.perf_counter()
        if not self._pending:
            return
        columns = list(zip(*self._pending))
        self._pending = []
        payload = {
            "v": VERSION,
            "type": "steps",
            **{name: list(col) for name, col in zip(STEP_FIELDS, columns)},
        }
        self._write(json.dumps(payload, separators=(",", ":")) + "\n")

    def _write(self, text: str) -> None:
        data = text.encode("utf-8")
        while data:
            n = os.write(self._fd, data)
            data = data[n:]


def parse_event(raw: Any) -> Event:
    """One decoded line as its typed event; ProtocolError for a wrong version, an unknown type,
    a missing field or (``steps``) columns of different lengths. Unknown extra keys are ignored,
    so a newer worker's additions do not break an older reader."""
    if not isinstance(raw, dict) or raw.get("v") != VERSION:
        raise ProtocolError(f"unsupported event: {str(raw)[:80]!r}")
    kind = raw.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ProtocolError(f"unknown event type {kind!r}")
    names, required = _FIELDS[cls.type]
    missing = sorted(required.difference(raw))
    if missing:
        raise ProtocolError(f"{kind} event without {', '.join(missing)}")
    event = cls(**{name: raw[name] for name in names if name in raw})
    if isinstance(event, Steps):
        lengths = {len(c) if isinstance(c, list) else -1 for c in event.columns.values()}
        if len(lengths) != 1 or -1 in lengths:
            raise ProtocolError("steps event whose columns are not lists of one length")
    return event


def parse_line(line: bytes | str) -> Event:
    """One event from one line; ProtocolError for anything that is not a known v1 event."""
    try:
        raw = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"not an event line: {str(line)[:80]!r} ({exc})") from None
    return parse_event(raw)


def expand_steps(event: Steps) -> list[dict[str, Any]]:
    """A ``steps`` event as one dict per step."""
    return [dict(zip(STEP_FIELDS, row)) for row in zip(*event.columns.values())]
