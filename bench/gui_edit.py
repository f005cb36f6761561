"""An inspector edit on a 50-layer network: re-infer shapes and repaint (target: under 50 ms).

Builds a 50-layer project (Dense, BatchNorm, Dropout and a residual Add every few layers),
opens it in the real main window, selects a block in the middle and changes its units through
the inspector's spin box, as a user would. Each timing runs from the spin box change through
the undo command, shape inference, the canvas update and the inspector update to a synchronous
repaint of the canvas and the inspector. Prints figures; never passes or fails.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_edit.py [--layers 50] [--edits 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def fifty_layer_project(n: int):
    from engine.spec.project import from_dict

    layers, prev, i = [], "input", 0
    while len(layers) < n - 1:
        i += 1
        block = [
            {
                "id": f"dense{i}",
                "type": "Dense",
                "units": 32,
                "activation": "relu",
                "inputs": [prev],
            },
            {"id": f"bn{i}", "type": "BatchNorm"},
            {"id": f"drop{i}", "type": "Dropout", "rate": 0.1},
        ]
        if i > 1:
            block.append({"id": f"add{i}", "type": "Add", "inputs": [prev, f"drop{i}"]})
        layers += block
        prev = block[-1]["id"]
    layers = layers[: n - 1] + [{"id": "out", "type": "Dense", "units": 3}]
    return from_dict(
        {
            "format": "twintrain/1",
            "name": "bench-50",
            "model": {"input": {"shape": [32]}, "layers": layers},
            "training": {"dataset": {"name": "blobs"}},
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=50)
    parser.add_argument("--edits", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ["TWINTRAIN_DATA_DIR"] = data_dir
        from gui.analysis import analyse
        from gui.app import create_app
        from gui.main_window import MainWindow

        app = create_app()
        win = MainWindow()
        win.resize(1280, 800)
        project = fifty_layer_project(args.layers)
        win.doc.load(project)
        win.show()
        app.processEvents()
        target = next(
            layer for layer in project.layers[len(project.layers) // 2 :] if layer.type == "Dense"
        )
        win.scene.select_only([target.id])
        app.processEvents()
        spin = win.inspector.form.fields["units"].spin
        canvas, inspector = win.view.viewport(), win.inspector.viewport()
        totals, infer_only = [], []
        for k in range(args.edits):
            units = 33 + k % 40
            t0 = time.perf_counter()
            spin.setValue(units)
            canvas.repaint()
            inspector.repaint()
            totals.append(time.perf_counter() - t0)
            assert win.doc.layer(target.id).params["units"] == units
            app.processEvents()
            t1 = time.perf_counter()
            analyse(win.doc.project)
            infer_only.append(time.perf_counter() - t1)
        a = win.doc.analysis
        win.doc.undo_stack.setClean()
        win.close()
    ms = sorted(t * 1000 for t in totals)
    print(
        f"inspector edit on a {len(project.layers)}-layer graph ({a.params:,} parameters), "
        f"{args.edits} edits, offscreen"
    )
    print(
        "  edit -> re-infer -> canvas + inspector repainted: "
        f"median {statistics.median(ms):.1f} ms, "
        f"p95 {ms[int(len(ms) * 0.95) - 1]:.1f} ms, max {ms[-1]:.1f} ms"
    )
    print(f"  of which shape inference alone: median {statistics.median(infer_only) * 1000:.2f} ms")
    print("  target: under 50 ms")


if __name__ == "__main__":
    main()
