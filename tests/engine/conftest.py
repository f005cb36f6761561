"""Fixtures shared by the engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def xor_run(tmp_path_factory) -> Path:
    """The run folder of `twintrain train xor_mlp --epochs 2 --quiet` (both frameworks, default
    options), trained once per test session: the tests that only read a run share it, and none
    may write into it."""
    from engine.cli import main

    out = tmp_path_factory.mktemp("xor_run") / "run"
    assert main(["train", "xor_mlp", "--epochs", "2", "--out", str(out), "--quiet"]) == 0
    return out
