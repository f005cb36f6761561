"""Framework backends. Each module imports its framework and is loaded only in its worker."""

FRAMEWORKS = ("torch", "tensorflow")


def load_backend(framework: str):
    """The Backend class of a framework; imports that framework (call only in its worker)."""
    if framework == "torch":
        from engine.backends.torch_backend import TorchBackend

        return TorchBackend
    if framework == "tensorflow":
        from engine.backends.tf_backend import TFBackend

        return TFBackend
    raise ValueError(f"unknown framework '{framework}' (expected one of {', '.join(FRAMEWORKS)})")
