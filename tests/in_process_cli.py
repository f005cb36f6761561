"""`twintrain ARGS` run in the test's own process, for tests about what a command does.

The CLI is the same code either way (parsing, messages, exit status, files); in this process its
sessions take the suite's served workers (tests/served_workers.py) instead of importing each
framework afresh in a new process tree, a few seconds of CPU per framework. A test about the
command as a process (its environment, what it imports, a signal) still starts one.
"""

from __future__ import annotations

import contextlib
import io
import subprocess


def twintrain(*args: str) -> subprocess.CompletedProcess:
    """The exit status and what the command printed, as ``subprocess.run`` would give them."""
    from engine.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's refusals
            code = exc.code if isinstance(exc.code, int) else 1
    return subprocess.CompletedProcess(["twintrain", *args], code, out.getvalue(), err.getvalue())
