"""Guard against the PySide6 6.12.0 bug on Python 3.11: void methods leaked a reference to
None per call, and the app aborted after a few thousand Qt calls (machine-facts 5a)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QWidget


def test_void_qt_calls_do_not_drop_none_refcount(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None)
    for i in range(10_000):
        widget.resize(10 + i % 7, 10)
        widget.setWindowTitle("x")
    after = sys.getrefcount(None)
    assert after >= before - 50, f"None lost {before - after} references in 20,000 void calls"
