"""Typed parameter declarations: one place says a parameter's kind, default and range.

The GUI inspector builds its form from these; the loader validates files with them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.spec.errors import SpecError

# Makes the error to raise for a bad value, from its message.
Fail = Callable[[str], SpecError]

ACTIVATIONS: tuple[str, ...] = (
    "none",
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "tanh",
    "sigmoid",
    "softmax",
    "softplus",
    "swish",
)

# Kinds of parameter. "int_or_pair" is a size that may differ per spatial axis ([h, w]).
KINDS = ("int", "float", "bool", "choice", "int_or_pair", "shape", "str")

_REQUIRED = object()


@dataclass(frozen=True)
class Param:
    """One parameter of a layer type (or of a training section)."""

    name: str
    kind: str
    default: Any = _REQUIRED
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""
    # Exclusive bounds, for things like a dropout rate that must stay below 1.
    exclusive_max: bool = False
    exclusive_min: bool = False
    nullable: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    def validate(self, value: Any, *, layer: str | None = None) -> Any:
        """Return the value if it is valid for this parameter, else raise SpecError."""

        def fail(msg: str) -> SpecError:
            return SpecError(msg, layer=layer, field=self.name)

        if value is None and self.nullable:
            return value
        if self.kind == "int":
            self._check_int(value, fail)
        elif self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise fail(f"expected a number, got {_show(value)}")
            if not _finite(value):
                raise fail(f"expected a finite number, got {_show(value)}")
            self._check_range(value, fail)
        elif self.kind == "bool":
            if not isinstance(value, bool):
                raise fail(f"expected true or false, got {_show(value)}")
        elif self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                from engine.spec.errors import closest

                hint = closest(value, self.choices) if isinstance(value, str) else ""
                raise fail(f"expected one of {', '.join(self.choices)}, got {_show(value)}{hint}")
        elif self.kind == "int_or_pair":
            if isinstance(value, list):
                if len(value) != 2:
                    raise fail(f"expected an integer or a pair [h, w], got {_show(value)}")
                for v in value:
                    self._check_int(v, fail)
            else:
                self._check_int(value, fail)
        elif self.kind == "str":
            if not isinstance(value, str) or not value.strip():
                raise fail(f"expected a non-empty text, got {_show(value)}")
            if len(value) > 4096:
                raise fail(f"text is too long ({len(value)} characters, at most 4096)")
        elif self.kind == "shape":
            check_shape(value, fail, allow_minus_one=bool(self.extra.get("allow_minus_one")))
        return value

    def _check_int(self, value: Any, fail: Fail) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                raise fail(f"expected an integer, got {value} (write it without a decimal point)")
            raise fail(f"expected an integer, got {_show(value)}")
        self._check_range(value, fail)

    def _check_range(self, value: float, fail: Fail) -> None:
        lo, hi = self.minimum, self.maximum
        if lo is not None and (value < lo or (self.exclusive_min and value == lo)):
            raise fail(f"must be {'>' if self.exclusive_min else '>='} {lo:g}, got {value}")
        if hi is not None and (value > hi or (self.exclusive_max and value == hi)):
            raise fail(f"must be {'<' if self.exclusive_max else '<='} {hi:g}, got {value}")


MAX_DIM = 1 << 24


def check_shape(value: Any, fail: Fail, *, allow_minus_one: bool = False) -> None:
    """A per-sample shape: a non-empty list of positive integers (one -1 where allowed)."""
    if not isinstance(value, list) or not value:
        raise fail(f"expected a shape such as [8, 8, 1], got {_show(value)}")
    if len(value) > 8:
        raise fail(f"a shape has at most 8 axes, got {len(value)}")
    minus = 0
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int):
            raise fail(f"shape entries must be integers, got {_show(v)}")
        if v == -1 and allow_minus_one:
            minus += 1
            continue
        if v <= 0:
            raise fail(f"shape entries must be positive, got {v}")
        if v > MAX_DIM:
            raise fail(f"shape entry {v} is too large (at most {MAX_DIM})")
    if minus > 1:
        raise fail("only one shape entry may be -1")


def pair(value: int | list[int]) -> tuple[int, int]:
    """An int_or_pair value as (h, w)."""
    if isinstance(value, list):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _finite(value: int | float) -> bool:
    """math.isfinite, but False (not OverflowError) for an integer too large for a float
    (10**400)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 40 else text[:37] + "..."
