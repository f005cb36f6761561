"""One colour per framework, used by the charts, the report and the GUI alike."""

COLORS = {"torch": "#E4572E", "tensorflow": "#2E86AB"}
LABELS = {"torch": "PyTorch", "tensorflow": "TensorFlow/Keras"}

# Columns beyond the two above (Keras on JAX or on torch, compiled modes, ...) get the next of
# these until they are given their own colour and name.
EXTRA_COLORS = ("#3BB273", "#7768AE", "#E1BC29", "#8C564B", "#17BECF", "#D62728")


def color_of(column: str) -> str:
    """A column's colour: its own, else a stable pick from EXTRA_COLORS."""
    if column in COLORS:
        return COLORS[column]
    return EXTRA_COLORS[sum(map(ord, column)) % len(EXTRA_COLORS)]


def label_of(column: str) -> str:
    return LABELS.get(column, column)
