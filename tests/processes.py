"""The process tree as tests see it: what still runs, race-free.

A child can exit between ``children()`` and ``status()``; psutil then raises NoSuchProcess,
which means "gone" here, never an error (a CI run once failed on exactly that race). The suite's
served workers (tests/served_workers.py), idle between tests, are not a test's children: a test
that counts what a run left behind starts its own (``fresh_workers``), which are.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import psutil

from engine.worker_pool import shared_idle_pids


def _running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _served() -> set[int]:
    """This process's idle served workers and their own children (torch.compile's pool)."""
    pids = set()
    for pid in shared_idle_pids():
        try:
            pids |= {pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))}
        except psutil.NoSuchProcess:
            continue
    return pids


def live_children(of: psutil.Process | None = None) -> list[psutil.Process]:
    """Descendant processes that still run (zombies not yet reaped do not count), less this
    process's idle served workers."""
    try:
        children = (of or psutil.Process()).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    served = _served() if of is None else set()
    return [p for p in children if p.pid not in served and _running(p)]


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
