"""The dashboard's plots by name and title, without pyqtgraph (see plots_slot.py for why)."""

PLOTS = ("loss", "step_time", "throughput", "memory", "accuracy")
TITLES = {
    "loss": "Loss",
    "step_time": "Step time (ms)",
    "throughput": "Samples / s",
    "memory": "Memory (MiB)",
    "accuracy": "Validation accuracy (classes)",
}
DETAILS = ("step_time", "throughput", "memory", "accuracy")  # what "short" shows beside the loss
