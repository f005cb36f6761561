"""What every exporter shares: the entry it reports, quiet stdout, comparisons, ONNX Runtime.

No framework is imported here; onnxruntime is imported only when an ONNX file is run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

# An export passes when it reproduces the framework's output to within this (absolute, scaled
# by the output's magnitude when that is above 1, so trained logits are judged fairly).
TOLERANCE = 1e-4
# A second, odd batch size checked wherever the format claims a dynamic batch axis.
SMALL_BATCH = 3

Entry = dict[str, Any]


class CheckFailed(Exception):
    """A format was written but did not reproduce the framework's output."""

    def __init__(self, message: str, diff: float | None = None, check: str | None = None) -> None:
        super().__init__(message)
        self.diff = diff
        self.check = check


def tolerance_for(reference: np.ndarray) -> float:
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    return TOLERANCE * max(1.0, scale)


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise CheckFailed(
            f"output shape {list(b.shape)} differs from the framework's {list(a.shape)}"
        )
    if not np.all(np.isfinite(b)):
        raise CheckFailed("output holds NaN or infinite values")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def compare(pairs: list[tuple[np.ndarray, np.ndarray]], check: str) -> float:
    """Largest difference over (reference, candidate) pairs; CheckFailed above tolerance.

    ``check`` says what was compared; it is reported whether the check passes or not."""
    worst = 0.0
    for ref, got in pairs:
        try:
            diff = max_abs_diff(ref, got)
        except CheckFailed as exc:
            exc.check = check
            raise
        if diff > tolerance_for(ref):
            raise CheckFailed(
                f"output differs from the framework's by {diff:.3g} "
                f"(tolerance {tolerance_for(ref):.1g})",
                diff=diff,
                check=check,
            )
        worst = max(worst, diff)
    return worst


def path_bytes(path: Path) -> int:
    """Size of a file, or the total of every file under a folder."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def match_umask(path: Path) -> None:
    """Give a file or folder created owner-only (mkstemp, mkdtemp, safetensors) the mode a
    plain open() or mkdir() gives."""
    mask = os.umask(0)
    os.umask(mask)
    with contextlib.suppress(OSError):
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


def write_text(path: Path, text: str) -> None:
    """Write a whole text file atomically (never half-written) with the usual mode."""
    from engine.spec.project import write_atomic

    write_atomic(path, text)
    match_umask(path)


def remove(path: Path) -> None:
    """Remove a partial output this export wrote itself."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def one_line(exc: BaseException) -> str:
    """An exception as one short line for exports.json and the UI."""
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:297] + "..."
    if isinstance(exc, CheckFailed):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send everything printed (by Python or by C++ code writing to fd 1) to stderr.

    Exporters print progress to stdout (the dynamo ONNX exporter, TF's converters); in a worker
    stdout may carry the event stream, so nothing they print may reach it."""
    sys.stdout.flush()
    saved = None
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no usable fd 1 (embedded interpreters): the Python-level redirect still holds
        saved = None
    try:
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def entry(
    fmt: str,
    framework: str,
    file: str | None,
    out_dir: Path,
    *,
    ok: bool,
    max_abs_diff: float | None = None,
    check: str | None = None,
    reason: str | None = None,
    **extra: Any,
) -> Entry:
    """One exports.json entry (the keys every consumer can rely on, then any extras)."""
    size = path_bytes(out_dir / file) if file and (out_dir / file).exists() else None
    out: Entry = {
        "format": fmt,
        "framework": framework,
        "file": file,
        "bytes": size,
        "ok": ok,
        "max_abs_diff": max_abs_diff,
        "check": check,
        "reason": reason,
    }
    out.update(extra)
    return out


def attempt(
    fmt: str,
    framework: str,
    file: str,
    out_dir: Path,
    work: Callable[[Path], tuple[float | None, str, dict[str, Any]]],
) -> Entry:
    """Run one export-and-verify step; any failure becomes an entry with the reason.

    ``work(path)`` writes the file and returns (max abs diff, what was checked, extra keys). A
    file that failed its check stays on disk (it may still be useful to inspect); one whose
    export raised is removed, since it may be partial."""
    path = out_dir / file
    try:
        with quiet_stdout():
            diff, check, extra = work(path)
        return entry(
            fmt, framework, file, out_dir, ok=True, max_abs_diff=diff, check=check, **extra
        )
    except CheckFailed as exc:
        return entry(
            fmt,
            framework,
            file,
            out_dir,
            ok=False,
            max_abs_diff=exc.diff,
            check=exc.check,
            reason=one_line(exc),
        )
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        remove(path)
        return entry(fmt, framework, file, out_dir, ok=False, reason=one_line(exc))


def run_onnx(path: Path, x: np.ndarray) -> np.ndarray:
    """The ONNX file's output for ``x`` in ONNX Runtime on the CPU."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: np.ascontiguousarray(x, dtype=np.float32)})[0]


def onnx_opset(path: Path) -> int | None:
    """The default-domain opset an ONNX file declares."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    onnx.checker.check_model(model)
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def batches(sample_x: np.ndarray) -> list[np.ndarray]:
    """The sample batch and a smaller one, so a fixed batch axis cannot pass unnoticed."""
    x = np.ascontiguousarray(sample_x, dtype=np.float32)
    if len(x) < 2:
        x = np.concatenate([x, x])[:2] if len(x) else x
    small = x[: min(SMALL_BATCH, len(x) - 1)] if len(x) > 1 else x
    return [x, np.ascontiguousarray(small)]
