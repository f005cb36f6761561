"""Every backend class implements engine.backends.base.Backend: each member of the protocol, and
each method with the protocol's parameter names, kinds and defaults.

mypy checks the same (engine.backends.load_backend returns ``type[Backend]``, tests/engine/
test_types.py); this test catches drift without mypy. The backend modules import their
framework, and this process imports neither, so they are read as source (ast), not imported.
The classes checked are the registry's (engine.runtimes), so a new runtime's backend is checked
too.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from engine.backends import FRAMEWORKS
from engine.backends.base import Backend

ROOT = Path(__file__).resolve().parents[2]

# What a protocol's class body holds besides its members.
_NOT_MEMBERS = {
    "__module__",
    "__qualname__",
    "__doc__",
    "__dict__",
    "__weakref__",
    "__annotations__",
}


def protocol_members(proto: type) -> tuple[set[str], dict[str, inspect.Signature]]:
    """(data members, {method: signature}) declared by a protocol class (typing's own
    get_protocol_members is Python 3.13+)."""
    data = set(vars(proto).get("__annotations__", {}))
    methods: dict[str, inspect.Signature] = {}
    for name, value in vars(proto).items():
        if name in _NOT_MEMBERS or name.startswith("_") and name != "__init__":
            continue
        if isinstance(value, staticmethod):
            methods[name] = inspect.signature(value.__func__)
        elif inspect.isfunction(value):
            params = list(inspect.signature(value).parameters.values())[1:]  # without self
            methods[name] = inspect.Signature(params)
    return data, methods


def registered_backends() -> dict[str, tuple[str, str]]:
    """{runtime: (module, class)} as load_backend imports them: the registry's ``backend``."""
    from engine.runtimes import RUNTIMES

    return {r.id: tuple(r.backend.split(":")) for r in RUNTIMES.values()}  # type: ignore[misc]


def _class_def(source: str, name: str) -> ast.ClassDef:
    tree = ast.parse(source)
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name]
    return cls


def _params(func: ast.FunctionDef, static: bool) -> list[tuple[str, str, bool]]:
    """(name, kind, has a default) of each parameter, without self."""
    a = func.args
    positional = [*a.posonlyargs, *a.args]
    if not static:
        positional = positional[1:]
    with_default = set(range(len(positional) - len(a.defaults), len(positional)))
    kinds = ["POSITIONAL_ONLY"] * len(a.posonlyargs) + ["POSITIONAL_OR_KEYWORD"] * len(a.args)
    kinds = kinds if static else kinds[1:]
    out = [(p.arg, k, i in with_default) for i, (p, k) in enumerate(zip(positional, kinds))]
    if a.vararg:
        out.append((a.vararg.arg, "VAR_POSITIONAL", False))
    out += [(p.arg, "KEYWORD_ONLY", d is not None) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg:
        out.append((a.kwarg.arg, "VAR_KEYWORD", False))
    return out


def _signature_params(sig: inspect.Signature) -> list[tuple[str, str, bool]]:
    return [
        (p.name, p.kind.name, p.default is not inspect.Parameter.empty)
        for p in sig.parameters.values()
    ]


def drift(source: str, class_name: str, proto: type = Backend) -> list[str]:
    """Every way the class in ``source`` departs from the protocol (empty when it conforms)."""
    cls = _class_def(source, class_name)
    data, methods = protocol_members(proto)
    funcs = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
    attrs = set()
    for node in cls.body:  # class attributes: name = ..., name: T (= ...)
        if isinstance(node, ast.Assign):
            attrs |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            attrs.add(node.target.id)
    for node in ast.walk(cls):  # instance attributes: self.name = ... in any method
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        for t in targets:
            if (
                isinstance(t, ast.Attribute)
                and isinstance(t.value, ast.Name)
                and t.value.id == "self"
            ):
                attrs.add(t.attr)
    problems = [f"no attribute '{name}'" for name in sorted(data - attrs - set(funcs))]
    for name, sig in sorted(methods.items()):
        func = funcs.get(name)
        if func is None:
            problems.append(f"no method '{name}'")
            continue
        proto_static = isinstance(vars(proto)[name], staticmethod)
        static = any(
            isinstance(d, ast.Name) and d.id == "staticmethod" for d in func.decorator_list
        )
        if static != proto_static:
            problems.append(f"'{name}' is {'' if static else 'not '}a staticmethod")
            continue
        want, got = _signature_params(sig), _params(func, static)
        if want != got:
            problems.append(f"'{name}' takes {got}, the protocol {want}")
    return problems


BACKENDS = registered_backends()


def test_every_framework_has_a_registered_backend() -> None:
    assert sorted(BACKENDS) == sorted(FRAMEWORKS)


def test_protocol_lists_what_the_engine_uses() -> None:
    """The members the worker and the exporters rely on are in the protocol (a member dropped
    from it would let a backend drop it too)."""
    data, methods = protocol_members(Backend)
    assert {"name", "plan", "model"} <= data
    assert {
        "__init__",
        "resolve_device",
        "info",
        "build",
        "train_step",
        "evaluate",
        "forward",
        "predict",
        "get_weights",
        "peak_device_bytes",
    } <= set(methods)


@pytest.mark.parametrize("framework", sorted(BACKENDS))
def test_backend_implements_the_protocol(framework: str) -> None:
    module, class_name = BACKENDS[framework]
    path = ROOT / (module.replace(".", "/") + ".py")
    problems = drift(path.read_text(encoding="utf-8"), class_name)
    assert not problems, f"{class_name} ({path.name}) drifted from Backend: " + "; ".join(problems)


def test_drift_is_caught() -> None:
    """The check itself: a class missing a member, or with a renamed parameter, is reported."""
    source = """
class Fake:
    name = "fake"

    def __init__(self, project, *, device="cpu", threads=1, mode="eager"):
        self.plan = None
        self.mode = mode

    @staticmethod
    def resolve_device(requested):
        return requested, None

    def info(self): ...
    def compiles(self): ...
    def probe(self, x, y): ...
    def isolate(self, inputs, grads): ...
    def build(self, weights, *, optimizer_mode="matched"): ...
    def train_step(self, x, y): ...
    def evaluate(self, x, y, size): ...
    def forward(self, x, training=False): ...
    def predict(self, x): ...
    def get_weights(self): ...
"""
    problems = drift(source, "Fake")
    assert "no attribute 'model'" in problems
    assert "no method 'peak_device_bytes'" in problems
    assert any(p.startswith("'evaluate' takes") for p in problems)
    assert len(problems) == 3, problems
