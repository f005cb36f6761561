"""gui/tasks.py: background work whose result, error and progress arrive on the main thread."""

from __future__ import annotations

import sys
import threading
import time

from PySide6.QtCore import QObject

from gui.tasks import _LIVE, run_command, run_in_background


def test_the_result_arrives_on_the_main_thread(qtbot):
    main = threading.get_ident()
    got: list = []

    def work(task):
        return ("done", threading.get_ident())

    task = run_in_background(
        work, on_result=lambda r: got.append((r, threading.get_ident())), name="t-result"
    )
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    (value, worker), where = got[0]
    assert value == "done" and worker != main and where == main
    assert task.done and not task.running and task not in _LIVE


def test_an_error_arrives_with_its_message_and_traceback(qtbot):
    main = threading.get_ident()
    errors: list = []

    def work(task):
        raise ValueError("the disk is full")

    run_in_background(
        work,
        on_result=lambda _r: errors.append("no result expected"),
        on_error=lambda exc, tb: errors.append((exc, tb, threading.get_ident())),
    )
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    exc, tb, where = errors[0]
    assert isinstance(exc, ValueError) and str(exc) == "the disk is full"
    assert "Traceback" in tb and "in work" in tb and "the disk is full" in tb
    assert where == main


def test_an_error_without_a_handler_goes_to_stderr(qtbot, capfd):
    def work(task):
        raise RuntimeError("nobody listens")

    task = run_in_background(work, name="t-unheard")
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    err = capfd.readouterr().err
    assert "t-unheard" in err and "RuntimeError: nobody listens" in err


def test_cancel_stops_a_loop_and_drops_its_result(qtbot):
    started, rounds, results = threading.Event(), [], []

    def work(task):
        started.set()
        while not task.cancelled:
            rounds.append(1)
            time.sleep(0.01)
        return "cancelled late"

    task = run_in_background(work, on_result=results.append)
    assert started.wait(5)
    task.cancel()
    assert task.wait(5)  # the loop saw the flag and returned
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    assert results == [] and rounds


def test_progress_arrives_in_order_before_the_result(qtbot):
    seen: list = []

    def work(task):
        for i in range(200):
            task.report(i)
        return "end"

    run_in_background(work, on_progress=seen.append, on_result=seen.append)
    qtbot.waitUntil(lambda: "end" in seen, timeout=5000)
    assert seen == [*range(200), "end"]


def test_a_destroyed_parent_cancels_its_task_and_gets_no_callback(qtbot):
    parent = QObject()
    started, results = threading.Event(), []

    def work(task):
        started.set()
        while not task.sleep(0.01):
            pass
        return "too late"

    task = run_in_background(work, on_result=results.append, parent=parent)
    assert started.wait(5)
    parent.deleteLater()
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    assert task.cancelled and results == []


def test_run_command_returns_code_and_stderr_and_cancel_kills_the_process(qtbot):
    got: list = []
    script = "import sys; sys.stderr.write(sys.stdin.read().upper()); sys.exit(3)"
    run_in_background(
        lambda task: run_command(task, [sys.executable, "-c", script], stdin=b"hello"),
        on_result=got.append,
    )
    qtbot.waitUntil(lambda: bool(got), timeout=20_000)
    assert got == [(3, "HELLO")]

    began = time.perf_counter()
    task = run_in_background(
        lambda task: run_command(task, [sys.executable, "-c", "import time; time.sleep(60)"])
    )
    qtbot.wait(300)
    task.cancel()
    assert task.wait(10) and time.perf_counter() - began < 10
    qtbot.waitUntil(lambda: task.done, timeout=5000)
