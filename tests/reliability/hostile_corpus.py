"""Hostile project files: a corpus of mutated presets and broken bytes, written to a folder.

Used by tests/reliability/test_hostile_files.py and bench/fuzz_loader.py. Each entry is
(name, path, expect) where expect is "error" (a clean SpecError) or "ok" (loads and validates).
"""

from __future__ import annotations

import codecs
import copy
import json
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRESETS = sorted((ROOT / "presets").glob("*.twintrain.json"))
BIG = 100 * 2**20


def _nested(depth: int, leaf=1, kind: str = "list"):
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


def _set(doc: dict, path: tuple, value) -> dict:
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


def _numeric_paths(doc: dict) -> list[tuple]:
    """Every place a number sits in a preset (training values, input shape, layer params)."""
    out: list[tuple] = []

    def walk(value, path):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(path)

    walk(doc, ())
    return out


HUGE = [
    ("10**400", "1" + "0" * 400),
    ("-10**400", "-1" + "0" * 400),
    ("1e400", "1e400"),
    ("-1e400", "-1e400"),
    ("1e-400", "1e-400"),
    ("2**63", str(2**63)),
    ("-2**63-1", str(-(2**63) - 1)),
    ("4301 digits", "9" * 4301),
    ("NaN", "NaN"),
    ("Infinity", "Infinity"),
    ("-Infinity", "-Infinity"),
    ("1.5", "1.5"),
    ("-1", "-1"),
    ("0", "0"),
]

UNICODE_IDS = [
    "слой",
    "层",
    "l\u0301",
    "a\u200bb",
    "x\u202ey",
    "🙂",
    "a\u0000b",
    "ﬁ",
    "Ａ",
    "_" * 129,
    "",
    " a",
    "a-b",
    "1a",
]


def documents(rng: random.Random) -> Iterator[tuple[str, str | bytes, str]]:
    """(name, text or raw bytes, expect) for every corpus entry."""
    base = json.loads((ROOT / "presets" / "digits_cnn.twintrain.json").read_text(encoding="utf-8"))
    small = json.loads((ROOT / "presets" / "xor_mlp.twintrain.json").read_text(encoding="utf-8"))
    dumps = json.dumps

    # deep nesting, where the loader keeps values (x- keys) and where it reads them
    for depth in (65, 1000, 100_000):
        yield (
            f"deep list x-key {depth}",
            dumps({**small, "x-deep": "@"}).replace('"@"', "[" * depth + "]" * depth),
            "error",
        )
    yield (
        "deep object x-key 2000",
        dumps({**small, "x-deep": "@"}).replace('"@"', '{"a": ' * 2000 + "1" + "}" * 2000),
        "error",
    )
    yield (
        "deep layers list",
        dumps(_set(small, ("model", "layers"), "@")).replace('"@"', "[" * 5000 + "]" * 5000),
        "error",
    )
    yield "deep layout", dumps({**small, "layout": _nested(70, kind="dict")}), "error"
    yield "deep 63 levels in x-key (allowed)", dumps({**small, "x-deep": _nested(62)}), "ok"

    # huge and special numbers in every numeric field of two presets
    for doc, label in ((base, "digits_cnn"), (small, "xor_mlp")):
        for path in _numeric_paths(doc):
            for name, literal in HUGE:
                text = dumps(_set(doc, path, "@NUM@")).replace('"@NUM@"', literal)
                yield f"{label} {'.'.join(map(str, path))} = {name}", text, "maybe"

    # 10^6 layers in three shapes: real layers (over the size cap), empty objects (over the object
    # cap), and just over MAX_LAYERS
    layer = '{"id": "l%d", "type": "Dense", "units": 2}'
    yield (
        "10^6 Dense layers (about 40 MB)",
        dumps(small).replace(
            dumps(small["model"]["layers"]),
            "[" + ",".join(layer % i for i in range(1_000_000)) + "]",
        ),
        "error",
    )
    yield (
        "10^6 empty layer objects",
        dumps(small).replace(dumps(small["model"]["layers"]), "[" + ",".join(["{}"] * 10**6) + "]"),
        "error",
    )
    yield (
        "10,001 layers",
        dumps(
            _set(
                small,
                ("model", "layers"),
                [{"id": f"l{i}", "type": "Dense", "units": 2} for i in range(10_001)],
            )
        ),
        "error",
    )
    yield (
        "10,000 layers (the limit)",
        dumps(
            _set(
                small,
                ("model", "layers"),
                [{"id": f"l{i}", "type": "Dense", "units": 2} for i in range(10_000)],
            )
        ),
        "ok",
    )
    yield (
        "10^6 layout entries",
        dumps({**small, "layout": {f"l{i}": [i, i] for i in range(1_000_000)}}),
        "error",
    )

    # unicode ids and names
    for uid in UNICODE_IDS:
        yield f"id {uid[:12]!r}", dumps(_set(small, ("model", "layers", 0, "id"), uid)), "error"
    yield (
        "unicode name (allowed)",
        dumps({**small, "name": "сеть 网络 🙂", "description": "ünïcödé"}, ensure_ascii=False),
        "ok",
    )
    yield "lone surrogate in name", dumps({**small, "name": "\ud800"}), "error"
    yield "lone surrogate in x-key", dumps({**small, "x-\udfff": 1}), "error"
    yield "surrogate pair in name (allowed)", dumps({**small, "name": "\U0001f642"}), "ok"
    yield "NUL in unknown key", dumps({**small, "a\u0000": 1}), "error"
    yield (
        "RTL override in layer type",
        dumps(_set(small, ("model", "layers", 0, "type"), "Dense\u202e")),
        "error",
    )

    # NaN and infinities in JSON
    for lit in ("NaN", "Infinity", "-Infinity"):
        yield (
            f"{lit} learning rate",
            dumps(small).replace('"learning_rate": 0.01', f'"learning_rate": {lit}'),
            "error",
        )
        yield f"{lit} in x-key", dumps({**small, "x-v": "@"}).replace('"@"', lit), "error"

    # very long strings
    long = "a" * (10 * 2**20)
    yield "10 MB name", dumps({**small, "name": long}), "error"
    yield "1 MB id", dumps(_set(small, ("model", "layers", 0, "id"), long[: 2**20])), "error"
    yield (
        "1 MB layer type",
        dumps(_set(small, ("model", "layers", 0, "type"), long[: 2**20])),
        "error",
    )
    yield "1 MB unknown key", dumps({**small, long[: 2**20]: 1}), "error"
    yield (
        "1 MB dataset path",
        dumps(
            _set(
                small,
                ("training", "dataset"),
                {"name": "csv", "path": long[: 2**20], "target": "y"},
            )
        ),
        "error",
    )
    yield (
        "1 MB activation",
        dumps(_set(small, ("model", "layers", 0, "activation"), long[: 2**20])),
        "error",
    )
    yield "15 MB x-key string (allowed)", dumps({**small, "x-blob": "b" * (15 * 2**20)}), "ok"
    numbers = "[" + ",".join(["0"] * 3_000_000) + "]"
    yield (
        "3M numbers in an x-key (allowed)",
        dumps({**small, "x-n": "@"}).replace('"@"', numbers),
        "ok",
    )
    wrong = _set(small, ("model", "layers", 2, "units"), 5)
    yield (
        "3M numbers in an x-key and a wrong output size",
        dumps({**wrong, "x-n": "@"}).replace('"@"', numbers),
        "error",
    )

    # wrong encodings
    text = dumps({**small, "name": "café ünï"}, ensure_ascii=False)
    yield "UTF-16 with BOM", text.encode("utf-16"), "error"
    yield "UTF-16-LE without BOM", text.encode("utf-16-le"), "error"
    yield "UTF-16-BE with BOM", codecs.BOM_UTF16_BE + text.encode("utf-16-be"), "error"
    yield "UTF-32", text.encode("utf-32"), "error"
    yield "latin-1", text.encode("latin-1"), "error"
    yield "cp1252 quotes", text.replace("café", "\u201ccafé\u201d").encode("cp1252"), "error"
    yield (
        "Shift-JIS",
        dumps({**small, "name": "ネット"}, ensure_ascii=False).encode("shift_jis"),
        "error",
    )
    yield "UTF-8 with BOM (allowed)", codecs.BOM_UTF8 + text.encode("utf-8"), "ok"
    yield "overlong UTF-8", text.encode("utf-8").replace(b"/", b"\xc0\xaf"), "error"

    # binary garbage and other file types
    yield "random bytes 1 MB", rng.randbytes(2**20), "error"
    yield "NUL bytes", b"\x00" * 4096, "error"
    yield "empty file", b"", "error"
    yield "BOM only", codecs.BOM_UTF8, "error"
    yield "whitespace", b" \n\t\r\n" * 100, "error"
    yield "PNG header", b"\x89PNG\r\n\x1a\n" + rng.randbytes(1000), "error"
    yield "ELF header", b"\x7fELF\x02\x01\x01" + rng.randbytes(1000), "error"
    yield "zip archive", b"PK\x03\x04" + rng.randbytes(1000), "error"
    yield "pickle", b"\x80\x04\x95" + b"cos\nsystem\n(S'echo pwned'\ntR.", "error"
    yield "JSON array", b"[1, 2, 3]", "error"
    yield "JSON null", b"null", "error"
    yield "truncated preset", dumps(base)[: len(dumps(base)) // 2], "error"
    yield "preset with trailing garbage", dumps(base) + "}}}", "error"
    yield "duplicate keys (last wins, allowed)", dumps(small)[:-1] + ', "name": "twice"}', "ok"

    # byte flips of a real preset (a mutation fuzzer's simplest move)
    raw = (ROOT / "presets" / "residual_mlp.twintrain.json").read_bytes()
    for i in range(40):
        data = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        yield f"byte flips #{i}", bytes(data), "maybe"


def special_files(folder: Path) -> Iterator[tuple[str, Path, str]]:
    """Paths that are not ordinary small files: 100 MB (sparse), 17 MB, a FIFO, devices, a
    folder, symlink loops."""
    big = folder / "big.twintrain.json"
    with open(big, "wb") as fh:
        fh.truncate(BIG)
    yield "100 MB file", big, "error"
    over = folder / "over.twintrain.json"
    with open(over, "w", encoding="utf-8") as fh:
        fh.write('{"format": "twintrain/1", "x-pad": "' + "p" * (17 * 2**20) + '"}')
    yield "17 MB of JSON (over the 16 MiB cap)", over, "error"
    if hasattr(os, "mkfifo"):
        fifo = folder / "fifo.twintrain.json"
        os.mkfifo(fifo)
        yield "a FIFO", fifo, "error"
    for device in ("/dev/zero", "/dev/urandom"):
        if Path(device).exists():
            link = folder / f"{Path(device).name}.twintrain.json"
            link.symlink_to(device)
            yield f"symlink to {device}", link, "error"
    yield "a folder", folder, "error"
    loop = folder / "loop.twintrain.json"
    loop.symlink_to(loop)
    yield "symlink loop", loop, "error"
    yield "missing file", folder / "missing.twintrain.json", "error"


def write_corpus(folder: Path, seed: int = 0) -> list[tuple[str, Path, str]]:
    """Write every document to ``folder`` and return (name, path, expect) for each, special
    files included."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    out = []
    for i, (name, content, expect) in enumerate(documents(rng)):
        path = folder / f"{i:04d}.twintrain.json"
        path.write_bytes(
            content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
        )
        out.append((name, path, expect))
    special = folder / "special"
    special.mkdir(exist_ok=True)
    out.extend(special_files(special))
    return out


Loader = Callable[[Path], object]
