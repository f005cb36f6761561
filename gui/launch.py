"""The `twintrain` entry point: headless subcommands go to the engine, anything else opens the app.

It lives in gui/ because the engine must never import the GUI; it imports Qt only when the
desktop app is really opened, so `twintrain check` stays fast and Qt-free.
"""

from __future__ import annotations

import sys

from engine import cli


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--twintrain-worker":  # the frozen app re-launched as a worker
        from engine.worker import main as worker_main

        return worker_main(argv[1:])
    if argv and (argv[0] in cli.SUBCOMMANDS or argv[0] in ("-h", "--help")):
        return cli.main(argv)
    try:
        from gui.app import run_app
    except ImportError as exc:
        if exc.name is None or not exc.name.startswith("gui"):
            raise
        return cli.main(argv)
    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
