"""One colour per framework, used by the charts, the report and the GUI alike."""

COLORS = {"torch": "#E4572E", "tensorflow": "#2E86AB"}
LABELS = {"torch": "PyTorch", "tensorflow": "TensorFlow/Keras"}
