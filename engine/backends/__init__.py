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


def preload(framework: str) -> None:
    """Import a framework and what its first model build or step would import lazily
    (``torch.optim.Optimizer`` pulls in torch._dynamo, about 1.4 s here), so that a worker's
    import time is all paid, and measured, in one place; a warm worker pays it before its job."""
    load_backend(framework)
    if framework == "torch":
        import torch._dynamo  # noqa: F401
    else:
        import keras.optimizers  # noqa: F401


def rehearse(framework: str, threads: int) -> None:
    """Build a tiny model and take one training step on it, then discard it, so the one-time
    set-up of a framework's first model (TensorFlow's first function trace, about 0.1 s here;
    PyTorch's autograd engine, 0.04 s) is paid by a warm worker before its job, not by the
    user's first step. Every build reseeds, so no number of the real run changes. ``threads``: the
    job's (TensorFlow fixes its thread pools at the first model)."""
    from engine.data.load import load_data
    from engine.presets import load_project_arg
    from engine.spec import validate
    from engine.spec.training import resolve_training
    from engine.weights import init_weights

    project = load_project_arg("xor_mlp")
    graph = validate(project)
    training = resolve_training(project.training, graph.dataset.task if graph.dataset else None)
    backend = load_backend(framework)(project, device="cpu", threads=threads)
    backend.build(init_weights(project, graph, training["seed"]), optimizer_mode="matched")
    data, n = load_data(project), training["batch_size"]
    backend.train_step(data.x_train[:n], data.y_train[:n])
    del backend
    if framework == "tensorflow":
        import keras

        keras.backend.clear_session()  # layer-name counters and graphs back to a fresh process's
