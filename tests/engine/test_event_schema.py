"""The worker -> session event schema (engine.events): every type a worker writes has its class,
the parser refuses what is not one, and the wire format round-trips through EventWriter."""

import ast
import dataclasses
import json
import os
from pathlib import Path

import pytest

from engine import events
from engine.events import (
    EVENT_TYPES,
    STEP_FIELDS,
    Compiled,
    Done,
    Epoch,
    Error,
    Event,
    EventWriter,
    Exports,
    Paused,
    ProtocolError,
    Ready,
    Resumed,
    Status,
    Steps,
    Warm,
    Yield,
    expand_steps,
    parse_event,
    parse_line,
)
from engine.presets import load_project_arg
from engine.session import Session

WORKER = Path(events.__file__).with_name("worker.py")

EXAMPLES = [
    Steps(
        step=[1, 2],
        epoch=[1, 1],
        loss=[0.7, 0.1 + 0.2],
        step_time_s=[1e-3, 2e-3],
        samples=[8, 8],
        rss_bytes=[10, 11],
        device_bytes=[None, None],
        wall_s=[0.5, 0.75],
    ),
    Warm(framework="torch", pid=42, preload_s=1.25),
    Ready(info={"framework": "torch", "device": "cpu", "threads": 2}),
    Epoch(
        epoch=1,
        train_loss=0.5,
        val_loss=None,
        val_accuracy=None,
        epoch_time_s=0.25,
        steps=2,
    ),
    Compiled(step=27, graphs=2, step_time_s=3.2),
    Exports(entries=[{"format": "onnx", "ok": True}]),
    Paused(),
    Resumed(),
    Yield(),
    Error(message="boom", step=3, traceback="Traceback ..."),
    Done(
        status="finished",
        steps=2,
        peak_rss_bytes=11,
        peak_device_bytes=None,
        train_s=0.5,
        stop_latency_s=None,
    ),
    Status(status="error", error="worker exited"),
]


def _worker_emits() -> list[tuple[str, set[str]]]:
    """(type, keyword names) of every ``events.emit("type", ...)`` call in engine/worker.py."""
    calls = []
    for node in ast.walk(ast.parse(WORKER.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "emit"
        ):
            first = node.args[0]
            assert isinstance(first, ast.Constant), ast.unparse(node)  # a literal type, checkable
            calls.append((first.value, {k.arg for k in node.keywords}))
    return calls


def test_every_event_the_worker_emits_matches_its_class():
    calls = _worker_emits()
    kinds = {kind for kind, _ in calls}
    assert kinds >= {"ready", "epoch", "error", "done", "warm", "exports", "paused", "yield"}
    for kind, keywords in calls:
        cls = EVENT_TYPES[kind]
        fields = {f.name: f for f in dataclasses.fields(cls)}
        required = {n for n, f in fields.items() if f.default is dataclasses.MISSING}
        assert keywords <= set(fields), (kind, keywords - set(fields))
        assert required <= keywords, (kind, required - keywords)
    # and the one event written from the hot path, the step batch, has one field per column
    assert tuple(f.name for f in dataclasses.fields(Steps)) == STEP_FIELDS


def test_every_registered_type_has_one_class():
    assert {type(e) for e in EXAMPLES} == set(EVENT_TYPES.values())
    for name, cls in EVENT_TYPES.items():
        assert cls.type == name and issubclass(cls, Event)


def test_round_trip_through_the_writer():
    read_fd, write_fd = os.pipe()
    writer = EventWriter(write_fd)
    for event in EXAMPLES:
        writer.emit(event)
    writer.emit("epoch", **EXAMPLES[3].as_dict())  # the worker's form: type name and fields
    writer.step((3, 1, 0.25, 1e-3, 8, 12, None, 1.0))
    writer.step((4, 1, 0.125, 1e-3, 8, 12, None, 1.1))
    writer.flush()
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        lines = fh.read().splitlines()
    for line in lines:
        assert json.loads(line)["v"] == 1  # the wire format is unchanged: versioned JSON lines
    parsed = [parse_line(line) for line in lines]
    assert parsed[: len(EXAMPLES)] == EXAMPLES
    assert parsed[len(EXAMPLES)] == EXAMPLES[3]
    batch = parsed[-1]
    assert isinstance(batch, Steps) and len(batch) == 2 and batch.loss == [0.25, 0.125]
    assert expand_steps(batch)[1] == dict(zip(STEP_FIELDS, (4, 1, 0.125, 1e-3, 8, 12, None, 1.1)))


def test_a_line_from_an_older_writer_still_parses():
    """A done event without stop_latency_s (an export-only run) and extra keys are accepted."""
    line = (
        '{"v":1,"type":"done","status":"finished","steps":0,"peak_rss_bytes":5,'
        '"peak_device_bytes":null,"train_s":0.0,"later_field":1}'
    )
    assert parse_line(line) == Done("finished", 0, 5, None, 0.0, None)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ({"v": 1, "type": "telemetry", "x": 1}, "unknown event type 'telemetry'"),
        ({"v": 1}, "unknown event type None"),
        ({"v": 2, "type": "paused"}, "unsupported event"),
        ({"v": 1, "type": "ready"}, "ready event without info"),
        ({"v": 1, "type": "error", "step": 3}, "error event without message"),
        (
            {"v": 1, "type": "done", "status": "finished", "steps": 1},
            "done event without peak_device_bytes, peak_rss_bytes, train_s",
        ),
        (
            {"v": 1, "type": "steps", **{n: [1, 2] for n in STEP_FIELDS}, "loss": [1.0]},
            "columns are not lists of one length",
        ),
        ([1, 2], "unsupported event"),
    ],
)
def test_the_parser_refuses_what_is_not_a_known_event(raw, why):
    with pytest.raises(ProtocolError, match=why.replace("(", r"\(")):
        parse_event(raw)
    with pytest.raises(ProtocolError):
        parse_line(json.dumps(raw))


def test_the_writer_refuses_an_unknown_type():
    read_fd, write_fd = os.pipe()
    try:
        with pytest.raises(ProtocolError):
            EventWriter(write_fd).emit("telemetry", x=1)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_real_worker_speaks_the_schema():
    """A torch worker under the alternate schedule (so it yields) sends only typed events."""
    project = load_project_arg("xor_mlp")
    session = Session(
        project, frameworks=("torch",), device="cpu", epochs=1, schedule="alternate", chunk_steps=10
    )
    seen: list[Event] = []
    session.subscribe(lambda fw, ev: seen.append(ev))
    session.start()
    try:
        assert session.wait(120)
    finally:
        session.close()
    run = session.runs["torch"]
    assert run.status == "finished", (run.error, list(run.log)[-5:])
    assert not [line for line in run.log if line.startswith("[twintrain]")]  # no ProtocolError
    assert all(isinstance(e, Event) for e in seen)
    assert {Ready, Steps, Yield, Epoch, Done, Status} <= {type(e) for e in seen}
    assert sum(len(e) for e in seen if isinstance(e, Steps)) == len(run.steps["step"]) == 25
    assert run.done["status"] == "finished" and run.epochs[0]["epoch"] == 1
