"""Screenshot the app as a user sees it: `python -m gui.screenshot OUT.png [PROJECT] [--select ID]`.

Run it under a real X server (``xvfb-run -a -s "-screen 0 1280x800x24"``, which is what
``gui/screenshot.sh`` does) so that fonts, style and scaling are those of the xcb platform.
It opens PROJECT (default: the digits_cnn preset), waits until the window is idle, grabs the
whole screen and quits. With ``--train`` it presses Train first and shoots once the run has
finished, so the dashboard (plots, summary) is in the picture; ``--frameworks a,b`` ticks those
runtimes first (and opens the dashboard, so the run options show without training);
``--deployment FOLDER`` shows the Deployment tab on a run's exported models.
"""

from __future__ import annotations

import argparse
import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication

from engine.runtimes import parse_runtimes, split_column
from gui.app import create_app, create_window


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gui.screenshot")
    parser.add_argument("out")
    parser.add_argument("project", nargs="?", default="digits_cnn")
    parser.add_argument("--select", help="a block id to select before the shot")
    parser.add_argument(
        "--maximized", action="store_true", help="fill the screen (no window manager here)"
    )
    parser.add_argument(
        "--train", action="store_true", help="train first; shoot when the run has finished"
    )
    parser.add_argument("--epochs", type=int, help="with --train: the number of epochs")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="Run > Compare Layers on the first two ticked columns; shoot when it has finished",
    )
    parser.add_argument(
        "--frameworks",
        help="tick these runtimes (comma-separated ids, engine/runtimes.py) and open the dashboard",
    )
    parser.add_argument(
        "--deployment",
        metavar="FOLDER",
        help="open the dashboard's Deployment tab on FOLDER (a run or an export folder): its "
        "saved benchmark, or a new one run first",
    )
    args = parser.parse_args(argv)
    app = create_app()
    win = create_window([args.project])
    screen = QGuiApplication.primaryScreen().availableGeometry()
    if args.maximized:
        win.setGeometry(screen)
    win.show()
    if args.frameworks:
        chosen = [split_column(c) for c in parse_runtimes(args.frameworks)]
        dash = win.training.dashboard
        for fw, box in dash.framework_boxes.items():
            modes = tuple(m for rt, m in chosen if rt == fw)
            box.setChecked(bool(modes))
            if modes:
                dash.mode_pickers[fw].set_modes(modes)
        QTimer.singleShot(100, lambda: win.training.show_dashboard(True))
    if args.select and not args.deployment:
        QTimer.singleShot(100, lambda: win.scene.select_only([args.select]))

    def shoot() -> None:
        app.processEvents()
        QGuiApplication.primaryScreen().grabWindow(0).save(args.out)
        print(f"saved {args.out} ({screen.width()}x{screen.height()} screen)")
        win.doc.undo_stack.setClean()
        win.close()

    if args.deployment:
        from pathlib import Path

        dash = win.training.dashboard
        panel = dash.deployment

        def benchmarked() -> None:
            if panel.task is None:
                QTimer.singleShot(500, shoot)
            else:
                QTimer.singleShot(300, benchmarked)

        def open_tab() -> None:
            win.training.show_dashboard(True)
            total = sum(win.training.splitter.sizes())
            win.training.splitter.setSizes([total // 4, total - total // 4])
            dash.pages.setCurrentWidget(panel)
            panel.set_folder(Path(args.deployment))
            if args.select == "chart":
                panel.views.setCurrentWidget(panel.chart)
            if panel.result is None:
                panel.start()
            QTimer.singleShot(300, benchmarked)

        QTimer.singleShot(300, open_tab)
    elif args.compare:
        compare = win.training.compare

        def compared() -> None:
            if compare.task is None and win.doc.comparison is not None:
                QTimer.singleShot(500, shoot)
            else:
                QTimer.singleShot(300, compared)

        QTimer.singleShot(300, compare.start)
        QTimer.singleShot(1500, compared)
    elif args.train:
        if args.epochs:
            win.doc.set_training(("epochs",), args.epochs)
        win.training.controller.finished.connect(lambda _summary: QTimer.singleShot(800, shoot))
        QTimer.singleShot(300, win.training.train)
    else:
        QTimer.singleShot(800, shoot)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
