"""One colour and one label per column, used by the charts, the report and the GUI alike; read
from the runtime registry (engine.runtimes), so a new runtime brings its own."""

from engine.runtimes import EXTRA_COLOURS, RUNTIMES, colour_of, label_of

COLORS = {r.id: r.colour for r in RUNTIMES.values()}
LABELS = {r.id: r.label for r in RUNTIMES.values()}
EXTRA_COLORS = EXTRA_COLOURS
color_of = colour_of

__all__ = ["COLORS", "EXTRA_COLORS", "LABELS", "color_of", "label_of"]
