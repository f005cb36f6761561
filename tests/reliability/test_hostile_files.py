"""Hostile project files: every one gets a clean one-line SpecError (or loads, when it is a valid
project) within 1 s and bounded memory, and nothing in a project file makes TwinTrain run code
or read outside the project's folder.

The corpus (tests/reliability/hostile_corpus.py) mutates the presets: deep nesting, huge and
special numbers in every numeric field, 10^6 layers, unicode ids, NaN in JSON, very long
strings, wrong encodings, binary garbage, a 100 MB file, FIFOs and devices. Hypothesis adds
random bytes, byte-level mutations of the presets and hostile values at random places.
bench/fuzz_loader.py prints the same figures over more inputs.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cli import main
from engine.spec import SpecError, read_project, validate
from tests.long_runs import examples
from tests.reliability.hostile_corpus import PRESETS, ROOT, _numeric_paths, write_corpus

TIME_LIMIT_S = 1.0
MEMORY_LIMIT = 256 * 2**20  # peak traced allocations for one file (16 MiB is the largest read)
PRESET_TEXTS = [p.read_bytes() for p in PRESETS]


def load(path: Path) -> str:
    """'ok' or 'error' (a clean SpecError); anything else raises."""
    try:
        validate(read_project(path))
    except SpecError as exc:
        text = str(exc)
        assert text and "\n" not in text, text
        assert exc.file, f"the message names no file: {text}"
        return "error"
    return "ok"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("hostile"))


def test_corpus_gets_clean_errors_fast(corpus):
    assert len(corpus) > 400
    problems = []
    slowest = 0.0
    for name, path, expect in corpus:
        t0 = time.perf_counter()
        try:
            outcome = load(path)
        except Exception as exc:  # anything but a SpecError is a bug
            problems.append((name, f"{type(exc).__name__}: {str(exc)[:200]}"))
            continue
        elapsed = time.perf_counter() - t0
        slowest = max(slowest, elapsed)
        if elapsed > TIME_LIMIT_S:
            problems.append((name, f"took {elapsed:.2f} s"))
        if expect != "maybe" and outcome != expect:
            problems.append((name, f"{outcome}, expected {expect}"))
    assert not problems, problems
    assert slowest < TIME_LIMIT_S


def test_corpus_memory_is_bounded(corpus):
    peaks = {}
    big = [entry for entry in corpus if not entry[1].is_file() or entry[1].stat().st_size > 2**20]
    assert len(big) >= 10  # the large ones cost; the small ones cannot
    for name, path, _expect in big:
        tracemalloc.start()
        try:
            with contextlib.suppress(Exception):  # test_corpus_gets_clean_errors_fast reports these
                load(path)
            peaks[name] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    worst = max(peaks, key=peaks.get)
    assert peaks[worst] < MEMORY_LIMIT, (worst, peaks[worst] >> 20)
    assert peaks["100 MB file"] < 2**20 and peaks["symlink to /dev/zero"] < 2**20


def test_special_paths_are_refused_by_the_cli(corpus, capsys):
    names = {name: path for name, path, _ in corpus}
    for name, expected in [
        ("100 MB file", "file is 100 MiB; project files are at most 16 MiB"),
        ("a FIFO", "is not a regular file"),
        ("symlink to /dev/zero", "is not a regular file"),
        ("symlink loop", "no such file"),
    ]:
        t0 = time.perf_counter()
        assert main(["check", str(names[name])]) == 1
        err = capsys.readouterr().err.strip()
        assert expected in err and "\n" not in err, (name, err)
        assert time.perf_counter() - t0 < TIME_LIMIT_S


def _check_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.twintrain.json"
    path.write_bytes(data)
    t0 = time.perf_counter()
    load(path)
    assert time.perf_counter() - t0 < TIME_LIMIT_S


@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.binary(max_size=2048))
def test_random_bytes(tmp_path, data):
    _check_bytes(tmp_path, data)


@settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    base=st.sampled_from(PRESET_TEXTS),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["insert", "delete", "replace", "duplicate"]),
            st.floats(0, 1),
            st.binary(min_size=1, max_size=8),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_byte_mutations_of_presets(tmp_path, base, edits):
    data = bytearray(base)
    for op, where, chunk in edits:
        i = int(where * len(data))
        if op == "insert":
            data[i:i] = chunk
        elif op == "delete":
            del data[i : i + len(chunk)]
        elif op == "replace":
            data[i : i + len(chunk)] = chunk
        else:
            data[i:i] = data[i : i + 64]
    _check_bytes(tmp_path, bytes(data))


hostile_values = st.one_of(
    st.integers(-(10**500), 10**500),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        ["\ud800", "\u0000", "\u202e", "a" * 5000, "", "🙂", "..", "/etc/passwd", "~", "C:\\x"]
    ),
    st.recursive(st.integers(0, 3), lambda c: st.lists(c, max_size=3), max_leaves=80),
    st.integers(60, 5000).map(lambda d: f"@DEEP{d}@"),  # nested lists, put in after json.dumps
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=3),
)
PRESET_DOCS = [json.loads(t) for t in PRESET_TEXTS]
STRING_KEYS = ("id", "type", "activation", "padding", "name", "loss", "path", "target")


def _paths(doc):
    out = _numeric_paths(doc)

    def walk(value, path):
        if isinstance(value, dict):
            for k, v in value.items():
                if k in STRING_KEYS and isinstance(v, str):
                    out.append((*path, k))
                walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))

    walk(doc, ())
    return out


@settings(
    max_examples=examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(doc_index=st.integers(0, len(PRESET_DOCS) - 1), data=st.data())
def test_hostile_values_anywhere(tmp_path, doc_index, data):
    doc = json.loads(json.dumps(PRESET_DOCS[doc_index]))
    paths = _paths(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = data.draw(hostile_values)
    try:
        text = json.dumps(doc, allow_nan=True)
    except ValueError:  # an integer past Python's digit limit: the file would say the same
        text = json.dumps(doc, default=str)
    text = re.sub(r'"@DEEP(\d+)@"', lambda m: "[" * int(m[1]) + "]" * int(m[1]), text)
    _check_bytes(tmp_path, text.encode("utf-8", "surrogatepass"))


# ---- paths: nothing outside the project's folder -----------------------------------------------

GOOD_CSV = "a,b,label\n0.5,1.5,0\n1.0,2.0,1\n1.5,2.5,0\n2.0,3.0,1\n"


@pytest.fixture
def folders(tmp_path):
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "data.csv").write_text(GOOD_CSV)
    (outside / "secret.csv").write_text(GOOD_CSV)  # a valid dataset: reading it would succeed
    (project / "link.csv").symlink_to(outside / "secret.csv")
    (project / "linkdir").symlink_to(outside)
    (project / "inside_link.csv").symlink_to(project / "data.csv")
    (project / "loop.csv").symlink_to(project / "loop.csv")
    if hasattr(os, "mkfifo"):
        os.mkfifo(project / "fifo.csv")
    return project, outside


def _project_with_path(project: Path, data_path: str) -> Path:
    doc = {
        "format": "twintrain/1",
        "model": {"input": {"shape": [2]}, "layers": [{"id": "out", "type": "Dense", "units": 2}]},
        "training": {"dataset": {"name": "csv", "path": data_path, "target": "label"}, "epochs": 1},
    }
    path = project / "p.twintrain.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "data_path,expected",
    [
        ("../outside/secret.csv", "leaves the project file's folder ('..' is not allowed)"),
        ("data/../../outside/secret.csv", "leaves the project file's folder"),
        ("@ABS@", "must be relative to the project file's folder"),
        ("~/secret.csv", "must be relative to the project file's folder"),
        ("~", "must be relative to the project file's folder"),
        ("/dev/zero", "must be relative to the project file's folder"),
        ("link.csv", "'link.csv' resolves outside the project file's folder"),
        ("linkdir/secret.csv", "'linkdir/secret.csv' resolves outside the project file's folder"),
        ("loop.csv", "'loop.csv' is a symlink loop"),
        ("fifo.csv", "data file 'fifo.csv' not found next to the project file"),
        ("a\x00b.csv", "is not a usable file name (it holds a NUL character)"),
        ("C:\\outside\\secret.csv", "must be relative to the project file's folder"),
        ("\\\\server\\share\\secret.csv", "must be relative to the project file's folder"),
        ("..\\outside\\secret.csv", "('..' is not allowed)"),
        ("x" * 4000 + ".csv", "cannot be opened (File name too long)"),
    ],
)
def test_dataset_paths_stay_inside_the_project_folder(folders, data_path, expected, capsys):
    project, outside = folders
    if data_path == "@ABS@":
        data_path = str(outside / "secret.csv")
    path = _project_with_path(project, data_path)
    t0 = time.perf_counter()
    with pytest.raises(SpecError) as info:
        validate(read_project(path))
    assert time.perf_counter() - t0 < TIME_LIMIT_S
    assert info.value.field == "training.dataset.path"
    assert expected in info.value.reason, info.value.reason
    assert main(["check", str(path)]) == 1
    assert expected.split("(")[0].strip() in capsys.readouterr().err


def test_a_symlink_inside_the_folder_is_followed(folders):
    project, _ = folders
    graph = validate(read_project(_project_with_path(project, "inside_link.csv")))
    assert graph.dataset.n_samples == 4


# ---- no code from a project file ---------------------------------------------------------------

PAYLOADS = [
    'x""";__import__("os").system("touch PWNED");"""',
    "x''';__import__('os').system('touch PWNED');'''",
    'x"\n__import__("os").system("touch PWNED")\n"',
    "x\\N{bad}\\x",
    "nul\x00 rtl\u202e lone\ud800",
    'x""""',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_project_name_cannot_put_code_into_exported_scripts(payload):
    from engine.export.code import generate
    from engine.presets import load_project_arg

    def shape(name: str, description: str) -> dict[str, list[str]]:
        project = load_project_arg("xor_mlp")
        project.name, project.description = name, description
        out = {}
        for framework, source in generate(project).items():
            tree = ast.parse(source)  # the script still compiles
            out[framework] = [type(node).__name__ for node in ast.walk(tree)]
            called = {
                n.func.id
                for n in ast.walk(tree)
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            }
            assert not called & {"__import__", "exec", "eval"}
        return out

    benign = shape("benign", "plain")
    # the hostile text changes string constants only: the same statements, calls and names
    assert shape(payload, payload) == benign


UNSAFE_CALLS = {
    ("torch", "load"): ("weights_only", True),
    ("np", "load"): ("allow_pickle", False),
    ("numpy", "load"): ("allow_pickle", False),
    ("load_model",): ("safe_mode", True),
}
FORBIDDEN_NAMES = {"eval", "exec", "__import__"}
FORBIDDEN_ATTRS = {
    ("pickle", "load"),
    ("pickle", "loads"),
    ("marshal", "loads"),
    ("yaml", "load"),
    ("os", "system"),
    ("dill", "load"),
    ("cloudpickle", "load"),
    ("joblib", "load"),
}
# Loaders of files TwinTrain has just written itself, in a folder it created, to verify them;
# and the deployment benchmark's, which runs the exported programs of a folder the user names,
# each in a child process (docs/deploy.md, "Trust": benchmark only folders you trust).
VERIFIED_OWN_FILES = {
    ("engine/export/torch_export.py", "jit.load"),
    ("engine/export/torch_export.py", "export.load"),
    ("engine/deploy/runners/torch_files.py", "jit.load"),
    ("engine/deploy/runners/torch_files.py", "export.load"),
}


def test_no_unsafe_loader_or_code_execution_in_the_app():
    """engine/ and gui/ never eval/exec/unpickle; np.load always has allow_pickle=False, Keras
    load_model safe_mode=True, torch.load (if ever used) weights_only=True; TorchScript and
    torch.export loaders only verify files the exporter itself just wrote."""
    problems, seen = [], set()
    for path in sorted(
        [*ROOT.joinpath("engine").rglob("*.py"), *ROOT.joinpath("gui").rglob("*.py")]
    ):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + (
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
                )
                if any(
                    n.split(".")[0] in ("pickle", "marshal", "dill", "cloudpickle", "shelve")
                    for n in names
                ):
                    problems.append(f"{rel}:{node.lineno} imports {names}")
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            static = len(node.args) == 1 and isinstance(
                node.args[0], ast.Constant
            )  # __import__("os")
            if (
                isinstance(func, ast.Name)
                and func.id in FORBIDDEN_NAMES
                and not (func.id == "__import__" and static)
            ):
                problems.append(f"{rel}:{node.lineno} calls {func.id}()")
            chain = []
            while isinstance(func, ast.Attribute):
                chain.insert(0, func.attr)
                func = func.value
            if isinstance(func, ast.Name):
                chain.insert(0, func.id)
            if len(chain) >= 2 and tuple(chain[-2:]) in FORBIDDEN_ATTRS:
                problems.append(f"{rel}:{node.lineno} calls {'.'.join(chain)}")
            if chain[-1:] == ["load"] and len(chain) >= 2 and chain[-2] in ("jit", "export"):
                seen.add((rel, f"{chain[-2]}.load"))
                if (rel, f"{chain[-2]}.load") not in VERIFIED_OWN_FILES:
                    problems.append(
                        f"{rel}:{node.lineno} calls {'.'.join(chain)} "
                        "outside the export verification"
                    )
            for key, (kwarg, value) in UNSAFE_CALLS.items():
                if tuple(chain[-len(key) :]) == key:
                    seen.add(key)
                    given = {k.arg: k.value for k in node.keywords}
                    if not (
                        kwarg in given
                        and isinstance(given[kwarg], ast.Constant)
                        and given[kwarg].value is value
                    ):
                        problems.append(
                            f"{rel}:{node.lineno} calls {'.'.join(chain)} without {kwarg}={value}"
                        )
    assert not problems, problems
    # the scan saw the loaders it guards (it would pass vacuously if they moved or were renamed)
    assert {("np", "load"), ("load_model",)} <= seen and seen >= VERIFIED_OWN_FILES
