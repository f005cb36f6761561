"""Shared test set-up: Qt runs offscreen; paths to the bundled presets."""

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Warm (pre-started) workers import both frameworks in the background: only the tests about
# them turn them on, so that every window a test opens does not cost two imports.
os.environ.setdefault("TWINTRAIN_WARM_WORKERS", "0")

ROOT = Path(__file__).resolve().parent.parent
PRESETS = sorted((ROOT / "presets").glob("*.twintrain.json"))
