"""Background work for the GUI: one helper instead of ad-hoc threads and QProcesses.

``run_in_background(fn, on_result=..., on_error=...)`` runs ``fn(task)`` on a Python worker
thread and hands its result, its exception (with the traceback text) or its progress reports
to the callbacks on the main thread, through queued Qt signals, in the order they happened.
``fn`` reads ``task.cancelled`` to stop early and calls ``task.report(value)`` for progress.

Rules that keep Qt safe: call ``run_in_background`` from the main thread; ``fn`` never
touches a Qt object (it computes, or waits on a process, and returns plain data). The task
stays referenced from the main thread until its last signal is handled and the thread has
exited, so no Qt object is ever freed on the worker thread.
"""

from __future__ import annotations

import atexit
import contextlib
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

_LIVE: set[Task] = set()  # tasks whose results are not yet delivered (main thread only)
POLL_S = 0.05  # how often a waiting task looks at its cancel flag


class Task(QObject):
    """One piece of background work. ``cancel()`` asks ``fn`` to stop; a cancelled task's
    result is dropped, but an exception it raises is still delivered (errors never vanish)."""

    _progress = Signal(object)
    _done = Signal(bool, object, str)  # ok, result or exception, traceback text

    def __init__(
        self,
        fn: Callable[[Task], Any],
        on_result: Callable[[Any], None] | None,
        on_error: Callable[[BaseException, str], None] | None,
        on_progress: Callable[[Any], None] | None,
        name: str,
    ) -> None:
        super().__init__()  # no Qt parent: only Python owns it, and only on the main thread
        self._fn = fn
        self._on_result = on_result
        self._on_error = on_error
        self._on_progress = on_progress
        self._cancel = threading.Event()
        self._parent_gone = False
        self._unhook: Callable[[], None] | None = None
        self.done = False  # the result or the error has been handled on the main thread
        self._progress.connect(self._deliver_progress, Qt.ConnectionType.QueuedConnection)
        self._done.connect(self._deliver_done, Qt.ConnectionType.QueuedConnection)
        self._thread = threading.Thread(target=self._work, daemon=True, name=name)

    # ---- for the caller (main thread) --------------------------------------------------------

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """Read by ``fn`` on the worker thread: stop at the next convenient point."""
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until ``fn`` has returned (the callbacks come later, from the event loop)."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    # ---- for fn (worker thread) --------------------------------------------------------------

    def report(self, value: Any) -> None:
        """Progress: ``on_progress(value)`` runs on the main thread, in the order reported."""
        self._progress.emit(value)

    def sleep(self, seconds: float) -> bool:
        """Wait up to ``seconds``, waking at once on cancel; True if cancelled."""
        return self._cancel.wait(seconds)

    # ---- internals ---------------------------------------------------------------------------

    def _work(self) -> None:
        try:
            result = self._fn(self)
        except BaseException as exc:  # noqa: BLE001 (handed to on_error on the main thread)
            self._done.emit(False, exc, traceback.format_exc())
        else:
            self._done.emit(True, result, "")

    @Slot(object)
    def _deliver_progress(self, value: Any) -> None:
        if self._on_progress is not None and not self._cancel.is_set():
            self._on_progress(value)

    @Slot(bool, object, str)
    def _deliver_done(self, ok: bool, value: Any, tb_text: str) -> None:
        self._thread.join()  # it is returning now: its last reference to us goes first
        self.done = True
        if self._unhook is not None:
            self._unhook()
        try:
            if not ok:
                if self._on_error is None or self._parent_gone:
                    sys.stderr.write(f"Error in background task {self._thread.name}:\n{tb_text}")
                else:
                    self._on_error(value, tb_text)
            elif self._on_result is not None and not self._cancel.is_set():
                self._on_result(value)
        finally:
            _LIVE.discard(self)


def run_in_background(
    fn: Callable[[Task], Any],
    *,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException, str], None] | None = None,
    on_progress: Callable[[Any], None] | None = None,
    parent: QObject | None = None,
    name: str = "gui-task",
) -> Task:
    """Start ``fn(task)`` on a worker thread; callbacks run on the main thread.

    ``on_error(exc, traceback_text)``; without it the traceback goes to stderr. With a
    ``parent``, the task is cancelled when the parent is destroyed and its callbacks (bound to
    the parent, typically) are no longer called."""
    task = Task(fn, on_result, on_error, on_progress, name)
    if parent is not None:
        cancel = task._cancel

        def parent_gone(*_args: Any) -> None:
            cancel.set()
            task._parent_gone = True

        parent.destroyed.connect(parent_gone)

        def unhook() -> None:
            with contextlib.suppress(RuntimeError, TypeError):
                parent.destroyed.disconnect(parent_gone)

        task._unhook = unhook
    _LIVE.add(task)
    task._thread.start()
    return task


def run_command(
    task: Task,
    command: Sequence[str],
    *,
    stdin: bytes | None = None,
    cwd: str | None = None,
    grace_s: float = 0.0,
) -> tuple[int, str]:
    """Run a process inside a task and wait for it: (exit code, stderr text).

    Cancelling the task gives the process ``grace_s`` to finish, then kills it. stderr goes to
    a temporary file, so a chatty process can never fill a pipe and hang."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=cwd,
        )
        try:
            if stdin is not None and proc.stdin is not None:  # a pipe: stdin was given
                with contextlib.suppress(BrokenPipeError, OSError):
                    proc.stdin.write(stdin)
                with contextlib.suppress(BrokenPipeError, OSError):
                    proc.stdin.close()
            while proc.poll() is None:
                if task.cancelled:
                    try:
                        proc.wait(grace_s)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
                    break
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(POLL_S)
        finally:
            if proc.poll() is None:  # fn itself failed while waiting: leave no process behind
                proc.kill()
                proc.wait()
        log.seek(0)
        return proc.returncode, log.read().decode("utf-8", "replace")


def cancel_all(timeout_s: float = 10.0) -> None:
    """Cancel every task still going and wait (up to ``timeout_s`` in all) for their threads:
    at exit, so no process a task started outlives the app."""
    import time

    deadline = time.monotonic() + timeout_s
    for task in list(_LIVE):
        task.cancel()
    for task in list(_LIVE):
        task.wait(max(0.0, deadline - time.monotonic()))


atexit.register(cancel_all)
