"""The process tree as tests see it: what still runs, race-free.

A child can exit between ``children()`` and ``status()``; psutil then raises NoSuchProcess,
which means "gone" here, never an error (a CI run once failed on exactly that race).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import psutil


def _running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def live_children(of: psutil.Process | None = None) -> list[psutil.Process]:
    """Descendant processes that still run (zombies not yet reaped do not count)."""
    try:
        children = (of or psutil.Process()).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [p for p in children if _running(p)]


def alive(pids: Iterable[int]) -> list[int]:
    """The pids among ``pids`` that still run."""
    out = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
        except psutil.NoSuchProcess:
            continue
        if _running(proc):
            out.append(pid)
    return out


def wait_for(predicate: Callable[[], object], timeout: float = 60.0, every: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())
