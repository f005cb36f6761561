"""Fuzz the project loader: the hostile corpus (tests/reliability/hostile_corpus.py: deep
nesting, huge numbers, 10^6 layers, unicode ids, NaN, long strings, wrong encodings, binary
garbage, a 100 MB file, FIFOs and devices) plus seeded random mutations of every preset (byte
edits and hostile values at random places). Each input is read with read_project and checked
with validate, as `twintrain check` does. Prints figures; never pass/fail
(tests/reliability/test_hostile_files.py asserts on the same inputs).

Goals (issue 8): every input ends in a clean SpecError or a valid project, none in any other
exception; each within 1 s; bounded memory (peak traced allocations per input).

    .venv/bin/python bench/fuzz_loader.py [--random 4000] [--seed 0]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.spec import SpecError, read_project, validate  # noqa: E402
from tests.reliability.hostile_corpus import (  # noqa: E402
    HUGE,
    PRESETS,
    UNICODE_IDS,
    _numeric_paths,
    write_corpus,
)

HOSTILE_TEXT = [
    "\ud800",
    "\u0000",
    "\u202e",
    "a" * 5000,
    "",
    "🙂",
    "..",
    "../x.csv",
    "/etc/passwd",
    "~",
    "C:\\x",
    "a\nb",
    '"""',
    "<script>",
    *UNICODE_IDS,
]


def load(path: Path) -> str:
    try:
        validate(read_project(path))
    except SpecError as exc:
        if "\n" in str(exc) or not exc.file:
            return "unclean SpecError"
        return "SpecError"
    return "valid"


def random_inputs(rng: random.Random, n: int):
    """(name, bytes) of seeded mutations of the presets."""
    texts = [p.read_bytes() for p in PRESETS]
    docs = [json.loads(t) for t in texts]
    for i in range(n):
        kind = rng.choice(("bytes", "bytes", "value", "value", "garbage"))
        if kind == "garbage":
            yield f"random bytes #{i}", rng.randbytes(rng.randint(0, 4096))
            continue
        k = rng.randrange(len(texts))
        if kind == "bytes":
            data = bytearray(texts[k])
            for _ in range(rng.randint(1, 8)):
                op, at = (
                    rng.choice(("insert", "delete", "replace", "dup")),
                    rng.randrange(len(data) + 1),
                )
                chunk = rng.randbytes(rng.randint(1, 8))
                if op == "insert":
                    data[at:at] = chunk
                elif op == "delete":
                    del data[at : at + len(chunk)]
                elif op == "replace":
                    data[at : at + len(chunk)] = chunk
                else:
                    data[at:at] = data[at : at + 64]
            yield f"{PRESETS[k].name} byte edits #{i}", bytes(data)
            continue
        doc = json.loads(json.dumps(docs[k]))
        paths = _numeric_paths(doc) + [
            ("name",),
            ("model", "layers", 0, "id"),
            ("model", "layers", 0, "type"),
            ("training", "dataset", "name"),
            ("model", "input", "shape"),
        ]
        literals = {}
        for j in range(rng.randint(1, 3)):
            path = rng.choice(paths)
            choice = rng.random()
            if choice < 0.4:
                _name, literal = rng.choice(HUGE)
                value = f"@{j}@"
                literals[value] = literal
            elif choice < 0.7:
                value = rng.choice(HOSTILE_TEXT)
            else:
                depth = rng.choice((3, 63, 64, 65, 500, 5000))
                value = f"@{j}@"
                literals[value] = "[" * depth + "1" + "]" * depth
            try:
                target = doc
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = value
            except (KeyError, IndexError, TypeError):  # an earlier edit replaced a parent
                continue
        text = json.dumps(doc)
        for placeholder, literal in literals.items():
            text = text.replace(f'"{placeholder}"', literal)
        yield f"{PRESETS[k].name} hostile values #{i}", text.encode("utf-8", "surrogatepass")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--random", type=int, default=4000, help="random mutations besides the corpus"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="twintrain-fuzz-") as tmp:
        folder = Path(tmp)
        inputs = [(name, path) for name, path, _ in write_corpus(folder / "corpus", args.seed)]
        n_corpus = len(inputs)
        rng = random.Random(args.seed)
        for i, (name, data) in enumerate(random_inputs(rng, args.random)):
            path = folder / f"r{i:05d}.twintrain.json"
            path.write_bytes(data)
            inputs.append((name, path))
        outcomes: dict[str, int] = {}
        crashes, times, peaks = [], {}, {}
        for name, path in inputs:
            t0 = time.perf_counter()
            try:
                outcome = load(path)
            except Exception as exc:  # a bug: anything but a SpecError
                outcome = "crash"
                crashes.append(f"{name}: {type(exc).__name__}: {str(exc)[:120]}")
            times[name] = time.perf_counter() - t0
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        for name, path in inputs:  # memory in a second pass: tracing slows the loader down
            tracemalloc.start()
            with contextlib.suppress(Exception):
                load(path)
            peaks[name] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    slow = max(times, key=times.get)
    big = max(peaks, key=peaks.get)
    over = sum(1 for t in times.values() if t > 1.0)
    print(
        f"Project loader fuzz: {len(inputs)} inputs tried "
        f"({n_corpus} corpus files, {args.random} random "
        f"mutations, seed {args.seed})"
    )
    print(f"  outcomes: {', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}")
    print(
        f"  time per input: median {statistics.median(times.values()) * 1e3:.2f} ms, "
        f"max {times[slow] * 1e3:.0f} ms "
        f"({slow}); over 1 s: {over}"
    )
    print(
        "  memory (peak traced allocations) per input: "
        f"median {statistics.median(peaks.values()) / 2**10:.0f} KiB, "
        f"max {peaks[big] / 2**20:.0f} MiB ({big})"
    )
    for line in crashes[:20]:
        print(f"  CRASH {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
