"""TensorBoard event files written by hand (engine.tensorboard_events) and by both real workers."""

import csv
import json
import struct
import subprocess
import sys

import numpy as np
import pytest

from engine.tensorboard_events import EventWriter, crc32c, frame, read_events, read_records


def test_crc32c_matches_the_standard_check_value():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


def test_events_read_back_and_a_flipped_byte_is_caught(tmp_path):
    writer = EventWriter(tmp_path / "tb")
    writer.scalars(1, {"train/loss": 0.5, "train/step_time_ms": 1.25}, wall_time=100.0)
    writer.scalars(2, {"train/loss": 0.25, "epoch/val_loss": None})
    writer.scalars(3, {})
    writer.close()
    assert writer.path.name.startswith("events.out.tfevents.")
    events = read_events(writer.path)
    assert events[0]["file_version"] == "brain.Event:2"
    assert [e["step"] for e in events[1:]] == [1, 2]
    assert events[1]["scalars"] == {"train/loss": 0.5, "train/step_time_ms": 1.25}
    assert events[1]["wall_time"] == 100.0
    assert events[2]["scalars"] == {
        "train/loss": 0.25
    }  # None is left out, an empty event never written
    data = bytearray(writer.path.read_bytes())
    data[-6] ^= 0x01
    writer.path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="CRC"):
        list(read_records(writer.path))


def test_tfrecord_framing_is_length_crc_data_crc():
    record = b"abc"
    framed = frame(record)
    assert struct.unpack("<Q", framed[:8])[0] == 3 and framed[12:15] == record and len(framed) == 19


def _loss_by_step(folder, framework):
    with open(folder / "metrics.csv", newline="", encoding="utf-8") as fh:
        return {
            int(r["step"]): float(r["loss"])
            for r in csv.DictReader(fh)
            if r["framework"] == framework
        }


def test_both_workers_write_the_same_scalars_that_tensorflow_reads(xor_run):
    out = xor_run  # `twintrain train xor_mlp --epochs 2 --quiet`, shared (tests/engine/conftest.py)
    epochs = json.loads((out / "summary.json").read_text())["frameworks"]
    tags = {}
    for fw in ("torch", "tensorflow"):
        (path,) = (out / "tb" / fw).glob("events.out.tfevents.*")
        events = read_events(path)
        steps = {e["step"]: e["scalars"] for e in events if "train/loss" in e["scalars"]}
        losses = _loss_by_step(out, fw)
        assert sorted(steps) == sorted(losses) and len(steps) == epochs[fw]["steps"]
        np.testing.assert_allclose(
            [steps[s]["train/loss"] for s in sorted(steps)],
            [losses[s] for s in sorted(losses)],
            rtol=1e-6,
        )
        assert all(v["train/step_time_ms"] > 0 for v in steps.values())
        val = [e for e in events if "epoch/val_loss" in e["scalars"]]
        assert len(val) == 2 and "epoch/val_accuracy" in val[-1]["scalars"]
        tags[fw] = {t for e in events for t in e["scalars"]}
    assert tags["torch"] == tags["tensorflow"]

    # TensorFlow's own reader, in a child process (never in a test process of the GUI)
    code = (
        "import sys, json, tensorflow as tf\n"
        "out = []\n"
        "for e in tf.compat.v1.train.summary_iterator(sys.argv[1]):\n"
        "    out.append([e.step, {v.tag: v.simple_value for v in e.summary.value}, "
        "e.file_version])\n"
        "print(json.dumps(out))\n"
    )
    (path,) = (out / "tb" / "tensorflow").glob("events.out.tfevents.*")
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    ours = read_events(path)
    assert theirs[0][2] == "brain.Event:2"
    assert [[s, v] for s, v, _ in theirs[1:]] == [
        [e["step"], pytest.approx(e["scalars"])] for e in ours[1:]
    ]
