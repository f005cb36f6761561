"""A real TwinTrain GUI process for the crash tests (run as a script, killed by the test).

    python tests/reliability/gui_child.py autosave PROJECT   edit, wait for the autosave, idle
    python tests/reliability/gui_child.py save-loop PROJECT  rename and save the project, again
                                                             and again

It builds the window the way `twintrain PROJECT` does (gui.app.create_app/create_window) and
uses the app's own code for every step: Document edits, the Autosaver's own timer (its interval
shortened from a minute to 100 ms; nothing else changed) and MainWindow.save_to. It prints one
line per step on stdout, so the test knows when to kill it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402

from gui.app import create_app, create_window  # noqa: E402


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main() -> int:
    mode, project = sys.argv[1], Path(sys.argv[2])
    app = create_app([])
    win = create_window([str(project)])
    win.tell = lambda title, text, kind="error": say(f"told {title}: {text}")
    win.show()
    assert win.doc.path == project.resolve(), win.doc.path

    if mode == "autosave":
        win.doc.set_param("h1", "units", 23)
        win.autosaver.timer.setInterval(100)  # the real timer, sooner than every minute

        def check() -> None:
            if win.autosaver.file.exists():
                say(f"autosaved {win.autosaver.file}")
                poll.stop()

        poll = QTimer()
        poll.timeout.connect(check)
        poll.start(20)
    elif mode == "save-loop":
        state = {"n": 0}

        def save_next() -> None:
            state["n"] += 1
            n = state["n"]
            win.doc.set_meta("name", f"gen {n}")
            say(f"saving {n} {time.perf_counter():.6f}")
            ok = win.save_to(project)
            say(f"saved {n} {time.perf_counter():.6f} {ok}")
            QTimer.singleShot(0, save_next)

        QTimer.singleShot(0, save_next)
    say("ready")
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
