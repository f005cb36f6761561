"""GUI responsiveness while both workers stream at full speed, and time from Train to the first
plotted point. Prints figures; never pass/fail.

Goals (issue 5): event-loop lag of a 10 ms PreciseTimer p95 < 16 ms, p99 < 50 ms, no block over
100 ms; Train to first point = the framework's import time + under 0.5 s.
Measures one cold run (workers started at Train) and one with Keep Workers Warm, in the same
process.
The warm run is the one that holds the lag goal to account: its workers start together and both
stream the whole time, while in a cold run PyTorch has often finished before TensorFlow's import is
done, so the cold "both streamed" window sees less contention.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TWINTRAIN_DATA_DIR", tempfile.mkdtemp(prefix="twintrain-bench-"))
os.environ["TWINTRAIN_WARM_WORKERS"] = (
    "0"  # the cold run first; Keep Workers Warm is turned on after it
)

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

PRESET = sys.argv[1] if len(sys.argv) > 1 else "digits_mlp"
EPOCHS = int(sys.argv[2]) if len(sys.argv) > 2 else 60


def measure(app, win, label: str) -> dict[str, float]:
    """One run from Train to its summary: event-loop lag while both stream, time to first points."""
    lateness: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    last = [0.0]

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        if last[0]:
            lateness.append(now - last[0] - 10.0)
        last[0] = now

    timer.timeout.connect(tick)
    controller = win.training.controller
    pressed = time.perf_counter()
    assert win.training.train(), "the preset should train"
    clock.start()
    timer.start()
    streaming = []
    while controller.summary is None:
        app.processEvents()
        time.sleep(0.001)
        if all(len(s) for s in controller.series.values()) and not streaming:
            streaming.append(len(lateness))
    timer.stop()
    lag = np.asarray(lateness[streaming[0] if streaming else 0 :])
    steps = {fw: len(s) for fw, s in controller.series.items()}
    print(
        f"\n[{label}] {PRESET}, {EPOCHS} epochs, steps {steps}; "
        f"GUI timer ticks while both streamed: {len(lag)}"
    )
    print(
        f"event-loop lag (ms): median {np.median(lag):.2f}, "
        f"p95 {np.percentile(lag, 95):.2f} (goal < 16), "
        f"p99 {np.percentile(lag, 99):.2f} (goal < 50), max {lag.max():.1f} (goal < 100)"
    )
    for fw, t in controller.first_point_s.items():
        info = controller.infos.get(fw, {})
        imp = info.get("import_s", float("nan"))
        how = (
            "pre-started worker: import done before Train"
            if info.get("prestarted")
            else f"import {imp:.2f} s"
        )
        beyond = t if info.get("prestarted") else t - imp
        print(
            f"{fw:<11} Train to first plotted point {t:.2f} s ({how}); "
            f"beyond the import: {beyond:.2f} s "
            f"(goal < 0.5 s)"
        )
    print(
        "(Train pressed to session start: "
        f"{(controller.session.started_at - pressed) * 1e3:.0f} ms)"
    )
    return {fw: controller.first_point_s[fw] for fw in controller.first_point_s}


def wait_warm(app, win, timeout_s: float = 180.0) -> float:
    """Turn Keep Workers Warm on and wait until both workers are ready; returns the wait."""
    t0 = time.perf_counter()
    win.training.act_warm.setChecked(True)  # Run > Keep Workers Warm
    while win.training.warm_state() != {"torch": "ready", "tensorflow": "ready"}:
        app.processEvents()
        time.sleep(0.01)
        if time.perf_counter() - t0 > timeout_s:
            raise TimeoutError(
                f"warm workers not ready after {timeout_s:.0f} s: {win.training.warm_state()}"
            )
    return time.perf_counter() - t0


def main() -> None:
    app = QApplication(sys.argv)
    import psutil

    from engine.presets import preset_path
    from gui.main_window import MainWindow

    win = MainWindow()
    win.resize(1280, 800)
    win.show()
    win.open_path(preset_path(PRESET), ask=False)
    win.doc.project.training["epochs"] = EPOCHS
    cold = measure(app, win, "cold: workers start when Train is pressed")
    waited = wait_warm(app, win)
    rss = [
        psutil.Process(pid).memory_info().rss / 2**20
        for pid in win.training.controller.pool.idle_pids()
    ]
    print(
        f"\nKeep Workers Warm: both ready {waited:.1f} s after it was turned on; "
        "idle warm workers hold "
        f"{' + '.join(f'{r:.0f}' for r in rss)} MB RSS"
    )
    warm = measure(app, win, "warm: Keep Workers Warm (workers pre-started)")
    print(
        "\nTrain to first point, cold -> warm: "
        + ", ".join(
            f"{fw} {cold[fw]:.2f} s -> {warm[fw]:.2f} s ({cold[fw] / warm[fw]:.0f}x)"
            for fw in warm
            if fw in cold
        )
    )
    win.training.shutdown()
    win.doc.undo_stack.setClean()
    win.close()


if __name__ == "__main__":
    main()
