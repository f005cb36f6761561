"""The `twintrain` entry point: headless subcommands go to the engine, anything else opens the app.

It lives in gui/ because the engine must never import the GUI; it imports Qt only when the
desktop app is really opened, so `twintrain check` stays fast and Qt-free.
"""

from __future__ import annotations

import os
import sys

from engine import cli
from engine.child_process import is_frozen
from engine.presets import list_presets, preset_path
from engine.spec.errors import closest
from gui.display import HEADLESS_HINT, display_problem


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--twintrain-worker":  # the frozen app re-launched as a worker
        from engine.worker import main as worker_main

        return worker_main(argv[1:])
    if argv and argv[0] == "--twintrain-deploy":  # one model file of a deployment benchmark
        from engine.deploy.child import main as deploy_main

        return deploy_main(argv[1:])
    _restore_library_path()
    if argv and argv[0] == "--self-test":
        from gui.self_test import main as self_test_main

        return self_test_main(argv[1:])
    if (
        argv and argv[0] == "--twintrain-finalize"
    ):  # the frozen app drawing a run's charts and report
        from pathlib import Path

        from engine.run_folder import finalize

        finalize(Path(argv[1]))
        return 0
    if (
        argv and argv[0] == "--twintrain-export-charts"
    ):  # the frozen app drawing the dashboard's export
        from engine import charts

        return charts.main(argv[1:])
    if argv and (argv[0] in cli.SUBCOMMANDS or argv[0] in ("-h", "--help")):
        return cli.main(argv)
    unknown = unknown_target(argv)
    if unknown:
        print(f"twintrain: {unknown}", file=sys.stderr)
        return 2
    no_screen = display_problem()
    if no_screen:
        print(f"twintrain: {no_screen}. {HEADLESS_HINT}", file=sys.stderr)
        return 1
    try:
        from gui.app import run_app
    except ImportError as exc:
        if exc.name is None or not exc.name.startswith("gui"):
            raise
        return cli.main(argv)
    return run_app(argv)


def unknown_target(argv: list[str]) -> str | None:
    """Why the first argument is neither a subcommand, an existing file nor a preset (a typo
    such as ``twintrain trian`` must not open the app on nothing), or None when it is fine."""
    if not argv:
        return None
    first = argv[0]
    if first.startswith("-"):
        return f"unknown option '{first}' (see twintrain --help)"
    if os.path.exists(first) or preset_path(first) is not None:
        return None
    known = [*cli.SUBCOMMANDS, *(p.key for p in list_presets())]
    return f"unknown command or project '{first}'{closest(first, known)}"


def _restore_library_path() -> None:
    """Frozen (PyInstaller) on Linux: the bootloader pointed LD_LIBRARY_PATH at the bundle and
    kept the user's value in LD_LIBRARY_PATH_ORIG. Put it back, so that programs this process
    starts (the browser for a report, xdg-open, nvidia-smi) use their own libraries. This process
    is unaffected (the loader read the variable at start-up), and workers, being this same
    executable, get the bundle's path from their own bootloader again."""
    if not is_frozen() or not sys.platform.startswith("linux"):
        return
    original = os.environ.get("LD_LIBRARY_PATH_ORIG")
    if original is not None:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)


if __name__ == "__main__":
    sys.exit(main())
