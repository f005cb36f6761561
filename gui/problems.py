"""Point the user at what stops a Train or Export: select the block, or show the project
setting in red, and say what to change (the words come from ``gui.analysis.fix_advice``)."""

from __future__ import annotations

from engine.data.catalog import describe
from engine.spec.errors import SpecError
from gui.analysis import fix_advice


def reveal_problem(win, exc: SpecError) -> str:
    """Select what ``exc`` is about in ``win`` (a MainWindow) and return the advice line."""
    doc = win.doc
    empty = not doc.layers
    dataset = None
    if empty:
        try:
            dataset = describe(doc.project.training["dataset"], doc.base_dir)
        except (SpecError, KeyError, TypeError, ValueError, OSError):
            dataset = None
    if exc.layer and doc.has(exc.layer):
        win.scene.select_only([exc.layer])
        win.view.ensureVisible(win.scene.blocks[exc.layer].sceneBoundingRect(), 40, 40)
    elif exc.field and not exc.layer:
        win.scene.clearSelection()  # with nothing selected the inspector shows the project settings
        win.inspector.show_selection([], [])
        field = getattr(win.inspector.form, "fields", {}).get(exc.field)
        if field is not None:
            if not field.error:
                field.set_error(exc.reason)
            win.inspector.ensureWidgetVisible(field)
    return fix_advice(exc, empty=empty, dataset=dataset)
