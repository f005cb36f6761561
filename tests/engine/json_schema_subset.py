"""A small JSON Schema (draft 2020-12) validator for the keywords docs/twintrain.schema.json uses.

The project has no `jsonschema` dependency, and the tests must not add one; this checks the
subset the generator (engine/spec/docs.py) emits, with the standard's semantics: a number with
no fractional part is an integer (32.0 is 32), booleans are never numbers, ``pattern`` is an
unanchored ECMA-262 search (``$`` matches only at the very end), ``properties`` and the other
object keywords ignore values that are not objects. A schema that uses any other keyword is
refused when the validator is built, so the generator cannot emit a keyword nothing checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Keywords that only annotate: they never make an instance invalid.
ANNOTATIONS = {"$schema", "$id", "$comment", "title", "description", "default", "examples"}
# Keywords this validator applies.
ASSERTIONS = {
    "$defs",
    "$ref",
    "type",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "items",
    "contains",
    "minContains",
    "maxContains",
    "properties",
    "patternProperties",
    "additionalProperties",
    "required",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
}
SUPPORTED = ANNOTATIONS | ASSERTIONS
TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")


def is_type(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    raise ValueError(f"unknown type {kind!r}")


def json_equal(a: Any, b: Any) -> bool:
    """Equality in JSON's data model: true is not 1, 1.0 is 1, objects ignore key order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_type(a, "number") and is_type(b, "number"):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """An ECMA-262 pattern as a Python one: ``$`` outside a class becomes ``\\Z`` (Python's ``$``
    also matches before a final newline). Enough for the patterns the schema uses."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        out.append("\\Z" if c == "$" and not in_class else c)
        i += 1
    return re.compile("".join(out))


class Validator:
    """Validates instances against one schema (its ``$ref``s point into it)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._check_keywords(schema, "#")

    def _check_keywords(self, schema: Any, where: str) -> None:
        if isinstance(schema, bool):
            return
        if not isinstance(schema, dict):
            raise ValueError(f"{where}: a schema must be an object or a boolean")
        unknown = set(schema) - SUPPORTED
        if unknown:
            raise ValueError(f"{where}: keywords this validator does not check: {sorted(unknown)}")
        kinds = schema.get("type", [])
        for kind in [kinds] if isinstance(kinds, str) else kinds:
            if kind not in TYPES:
                raise ValueError(f"{where}: unknown type {kind!r}")
        for key in ("items", "contains", "not", "if", "then", "else", "additionalProperties"):
            if key in schema:
                self._check_keywords(schema[key], f"{where}/{key}")
        for key in ("allOf", "anyOf", "oneOf"):
            for i, sub in enumerate(schema.get(key, [])):
                self._check_keywords(sub, f"{where}/{key}/{i}")
        for key in ("properties", "patternProperties", "$defs"):
            for name, sub in schema.get(key, {}).items():
                self._check_keywords(sub, f"{where}/{key}/{name}")
        for pattern in [schema.get("pattern"), *schema.get("patternProperties", {})]:
            if pattern is not None:
                self._pattern(pattern)
        if "$ref" in schema:
            self._resolve(schema["$ref"])

    def _pattern(self, pattern: str) -> re.Pattern[str]:
        if pattern not in self._patterns:
            self._patterns[pattern] = ecma_pattern(pattern)
        return self._patterns[pattern]

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise ValueError(f"only local references are supported, got {ref!r}")
        node: Any = self.root
        for part in ref[1:].split("/")[1:]:
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def is_valid(self, instance: Any) -> bool:
        return next(self.errors(instance), None) is None

    def errors(self, instance: Any) -> Iterator[str]:
        """Every violation, each as 'path: what' (a generator: take the first to fail fast)."""
        return self._errors(self.root, instance, "$")

    def _errors(self, schema: Any, value: Any, path: str) -> Iterator[str]:
        if schema is True:
            return
        if schema is False:
            yield f"{path}: not allowed"
            return
        if "$ref" in schema:
            yield from self._errors(self._resolve(schema["$ref"]), value, path)
        if "type" in schema:
            kinds = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
            if not any(is_type(value, k) for k in kinds):
                yield f"{path}: {value!r:.60} is not of type {' or '.join(kinds)}"
                return
        if "const" in schema and not json_equal(value, schema["const"]):
            yield f"{path}: {value!r:.60} is not {schema['const']!r}"
        if "enum" in schema and not any(json_equal(value, e) for e in schema["enum"]):
            yield f"{path}: {value!r:.60} is not one of {schema['enum']}"
        if is_type(value, "number"):
            yield from self._number(schema, value, path)
        if isinstance(value, str):
            yield from self._string(schema, value, path)
        if isinstance(value, list):
            yield from self._array(schema, value, path)
        if isinstance(value, dict):
            yield from self._object(schema, value, path)
        for sub in schema.get("allOf", []):
            yield from self._errors(sub, value, path)
        if "anyOf" in schema and not any(self._ok(s, value, path) for s in schema["anyOf"]):
            yield f"{path}: {value!r:.60} matches none of anyOf"
        if "oneOf" in schema:
            n = sum(self._ok(s, value, path) for s in schema["oneOf"])
            if n != 1:
                yield f"{path}: {value!r:.60} matches {n} of oneOf, not exactly one"
        if "not" in schema and self._ok(schema["not"], value, path):
            yield f"{path}: {value!r:.60} matches a schema it must not"
        if "if" in schema:
            branch = "then" if self._ok(schema["if"], value, path) else "else"
            if branch in schema:
                yield from self._errors(schema[branch], value, path)

    def _ok(self, schema: Any, value: Any, path: str) -> bool:
        return next(self._errors(schema, value, path), None) is None

    def _number(self, schema: dict[str, Any], value: float, path: str) -> Iterator[str]:
        checks = (
            ("minimum", lambda v, b: v >= b),
            ("maximum", lambda v, b: v <= b),
            ("exclusiveMinimum", lambda v, b: v > b),
            ("exclusiveMaximum", lambda v, b: v < b),
        )
        for key, holds in checks:
            if key in schema and not holds(value, schema[key]):
                yield f"{path}: {value!r} fails {key} {schema[key]}"

    def _string(self, schema: dict[str, Any], value: str, path: str) -> Iterator[str]:
        if "minLength" in schema and len(value) < schema["minLength"]:
            yield f"{path}: shorter than {schema['minLength']}"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            yield f"{path}: longer than {schema['maxLength']}"
        if "pattern" in schema and not self._pattern(schema["pattern"]).search(value):
            yield f"{path}: {value!r:.60} does not match {schema['pattern']}"

    def _array(self, schema: dict[str, Any], value: list[Any], path: str) -> Iterator[str]:
        if "minItems" in schema and len(value) < schema["minItems"]:
            yield f"{path}: fewer than {schema['minItems']} items"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            yield f"{path}: more than {schema['maxItems']} items"
        if "items" in schema:
            for i, item in enumerate(value):
                yield from self._errors(schema["items"], item, f"{path}[{i}]")
        if "contains" in schema:
            n = sum(self._ok(schema["contains"], item, path) for item in value)
            lo, hi = schema.get("minContains", 1), schema.get("maxContains")
            if n < lo or (hi is not None and n > hi):
                yield f"{path}: {n} items match 'contains' (allowed {lo} to {hi})"

    def _object(self, schema: dict[str, Any], value: dict[str, Any], path: str) -> Iterator[str]:
        for key in schema.get("required", []):
            if key not in value:
                yield f"{path}: '{key}' is required"
        properties = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        for key, item in value.items():
            matched = False
            if key in properties:
                matched = True
                yield from self._errors(properties[key], item, f"{path}.{key}")
            for pattern, sub in patterns.items():
                if self._pattern(pattern).search(key):
                    matched = True
                    yield from self._errors(sub, item, f"{path}.{key}")
            if not matched and "additionalProperties" in schema:
                yield from self._errors(schema["additionalProperties"], item, f"{path}.{key}")
