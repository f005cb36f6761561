"""What one training run is asked for, as a plain object instead of flags or widget state.

`twintrain train` builds it from its flags (``RunOptions.from_args``), the app from its
dashboard and Worker Limits; both hand it to the engine, which checks it in one place
(``validate``) with a message naming the field, or the CLI's flag for the CLI, so the two
can never drift apart in what they accept or in how a default (the schedule) is chosen.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from engine.defaults import HANG_TIMEOUT_S, MIN_HANG_TIMEOUT_S, MIN_MEMORY_MB
from engine.runtimes import DEFAULT_RUNTIMES, RUNTIMES, parse_runtimes, unavailable_reason
from engine.session import DEVICES, INITS, SCHEDULES, default_schedule
from engine.spec.errors import SpecError

FRAMEWORKS = DEFAULT_RUNTIMES  # the columns of a run that names none (engine.runtimes)
OPTIMIZERS = ("matched", "native")  # optimizer math: Keras' formulas in both, or each stock one

# The CLI's flag for each field, so its messages keep naming what the user typed.
CLI_FLAGS = {
    "frameworks": "--frameworks",
    "device": "--device",
    "schedule": "--schedule",
    "init": "--init",
    "optimizer": "--optimizer",
    "epochs": "--epochs",
    "max_memory_mb": "--max-memory",
    "hang_timeout_s": "--hang-timeout",
    "export_formats": "--export",
}

__all__ = ["CLI_FLAGS", "FRAMEWORKS", "RunOptions", "RunOptionsError", "default_schedule"]


class RunOptionsError(SpecError):
    """A run option the engine cannot run with; ``option`` names the RunOptions field."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


def _runtimes_problem(value: Any) -> str | None:
    """What is wrong with a choice of runtimes (after the field's name), or None: none, an unknown
    name (with the closest registered one), or one whose packages are not installed (with
    the command that installs them: engine.runtimes.unavailable_reason)."""
    if isinstance(value, str):
        names = [n.strip() for n in value.split(",") if n.strip()]
    else:
        names = [str(n) for n in value or ()]
    try:
        chosen = parse_runtimes(names, fastest=True)
    except SpecError as exc:
        known = ", ".join(RUNTIMES)
        return f"takes one or more of {known}; {exc.reason.split('; known:')[0]}"
    for name in chosen:
        why = unavailable_reason(name)
        if why:
            return f"cannot use '{name}': {why}"
    return None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class RunOptions:
    """The choices of one run; None means "the default" (resolved by ``resolved``)."""

    frameworks: tuple[str, ...] = FRAMEWORKS
    device: str = "auto"  # auto, cpu or cuda
    schedule: str | None = None  # parallel, alternate, sequential; None: default_schedule
    init: str = "matched"  # matched: the same initial weights everywhere; native: each its own
    optimizer: str | None = None  # matched or native optimizer math; None: follows init
    epochs: int | None = None  # None: the project's own
    max_memory_mb: float | None = None  # a worker over this RSS is stopped; None: no cap
    hang_timeout_s: float = HANG_TIMEOUT_S  # a worker silent this long is declared hung
    export_formats: tuple[str, ...] = ()  # model formats written after training; (): none

    # ---- checking ----------------------------------------------------------------------------

    def problems(self, names: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
        """Every bad value as (field, message); the message starts with the field's name (or
        ``names[field]``, e.g. the CLI's flag)."""
        names = names or {}
        out: list[tuple[str, str]] = []

        def bad(field: str, text: str) -> None:
            out.append((field, f"{names.get(field, field)} {text}"))

        mb = self.max_memory_mb
        if mb is not None and not (_number(mb) and math.isfinite(mb) and mb >= MIN_MEMORY_MB):
            shown = f"{mb:g}" if _number(mb) else repr(mb)
            bad(
                "max_memory_mb",
                f"must be at least {MIN_MEMORY_MB} (MB), got {shown}; a framework alone needs more",
            )
        hang = self.hang_timeout_s
        if not (_number(hang) and math.isfinite(hang) and hang >= MIN_HANG_TIMEOUT_S):
            shown = f"{hang:g}" if _number(hang) else repr(hang)
            bad(
                "hang_timeout_s",
                f"must be at least {MIN_HANG_TIMEOUT_S:g} (seconds), got {shown}; "
                "a framework's import takes seconds",
            )
        if self.epochs is not None and not (
            isinstance(self.epochs, int) and not isinstance(self.epochs, bool) and self.epochs >= 1
        ):
            bad("epochs", f"must be at least 1, got {self.epochs}")
        problem = _runtimes_problem(self.frameworks)
        if problem:
            bad("frameworks", problem)
        for field, value, allowed, optional in (
            ("device", self.device, DEVICES, False),
            ("schedule", self.schedule, SCHEDULES, True),
            ("init", self.init, INITS, False),
            ("optimizer", self.optimizer, OPTIMIZERS, True),
        ):
            if not (value in allowed or (optional and value is None)):
                bad(field, f"must be one of {', '.join(allowed)}, got '{value}'")
        if self.export_formats:
            from engine.export.formats import FORMATS

            unknown = [f for f in self.export_formats if f not in FORMATS]
            if unknown:
                bad(
                    "export_formats",
                    f"has unknown format '{unknown[0]}'; known: {', '.join(FORMATS)}",
                )
        return out

    def validate(self, names: Mapping[str, str] | None = None) -> RunOptions:
        """Raise RunOptionsError for the first bad value (before any worker starts); else self."""
        found = self.problems(names)
        if found:
            raise RunOptionsError(*found[0])
        return self

    # ---- using -------------------------------------------------------------------------------

    def resolved(self, has_gpu: bool | None = None) -> RunOptions:
        """The defaults filled in: the schedule (``has_gpu``: what the caller's GPU probe found;
        None looks now) and the optimizer math (follows init)."""
        return replace(
            self,
            schedule=self.schedule
            or default_schedule(self.device, has_gpu, runtimes=len(self.frameworks)),
            optimizer=self.optimizer or self.init,
        )

    @property
    def rss_cap_bytes(self) -> int | None:
        return None if self.max_memory_mb is None else int(self.max_memory_mb * 2**20)

    def session_kwargs(self, export_dir: str | Path | None = None) -> dict[str, Any]:
        """engine.session.Session's keyword arguments for these options (validated first).
        ``export_dir``: where the workers write ``export_formats`` (the run's models/)."""
        self.validate()
        export = None
        if self.export_formats and export_dir is not None:
            export = {"formats": list(self.export_formats), "dir": str(export_dir)}
        return {
            "frameworks": tuple(self.frameworks),
            "device": self.device,
            "schedule": self.schedule,
            "init": self.init,
            "optimizer": self.optimizer,
            "rss_cap_bytes": self.rss_cap_bytes,
            "hang_timeout_s": float(self.hang_timeout_s),
            "export": export,
        }

    @classmethod
    def from_args(cls, args: Any) -> RunOptions:
        """From `twintrain train`'s parsed flags, validated, with messages naming the flags."""
        text = args.frameworks
        problem = _runtimes_problem(text)
        if problem:
            raise RunOptionsError("frameworks", f"{CLI_FLAGS['frameworks']} {problem}")
        frameworks = parse_runtimes(text, fastest=True)
        export: tuple[str, ...] = ()
        if getattr(args, "export", None):
            from engine.export.formats import parse_formats

            export = tuple(parse_formats(args.export))
        options = cls(
            frameworks=frameworks,
            device=args.device,
            schedule=args.schedule,
            init=args.init,
            optimizer=args.optimizer,
            epochs=args.epochs,
            max_memory_mb=getattr(args, "max_memory", None),
            hang_timeout_s=getattr(args, "hang_timeout", HANG_TIMEOUT_S),
            export_formats=export,
        )
        return options.validate(CLI_FLAGS)
