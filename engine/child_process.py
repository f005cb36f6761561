"""How TwinTrain starts its own child processes (framework workers, the run finalizer, exports).

One place decides the command and the working directory. ``python -m MODULE`` puts its working
directory first on ``sys.path``, so a child started in the user's folder would import a
``bisect.py``, ``random.py`` or ``torch.py`` lying there, and run it, before any of TwinTrain's
code. Every child therefore runs in a folder TwinTrain chooses: the one that holds the ``engine``
package (or the frozen app's own folder), which holds nothing but TwinTrain. That works on every
Python the package supports (3.10 has no ``-P``). Paths handed to a child are made absolute first.
"""

from __future__ import annotations

import sys

from engine.resources import app_root, is_frozen

__all__ = ["child_cwd", "is_frozen", "relaunch_command"]


def child_cwd() -> str:
    """The working directory of every child process: a folder of TwinTrain's own."""
    return str(app_root())


def relaunch_command(module: str, frozen_args: list[str]) -> list[str]:
    """``python -m MODULE``, or the frozen executable with ``frozen_args`` (its own dispatch)."""
    if is_frozen():
        return [sys.executable, *frozen_args]
    return [sys.executable, "-m", module]
