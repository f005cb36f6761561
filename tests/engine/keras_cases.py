"""Cases for the Keras runtimes' parity test (test_keras_backends.py): an MLP (xor_mlp), a small
CNN (digits_cnn) and Embedding+GRU / Embedding+LSTM sequence models, each under several
optimizers, on fixed batches with a partial one. Framework-free: the test process and every
runtime's worker (backend_worker.py, section 'keras') build the same cases from here.
"""

from __future__ import annotations

import zlib

import numpy as np

from engine.data.load import load_data
from engine.presets import load_project_arg
from engine.spec.graph import infer
from engine.spec.project import Project, from_dict
from engine.weights import init_weights

STEPS = 15
BATCH = 16
OPTIMIZERS = {
    "adam": {"name": "adam", "learning_rate": 0.01},
    "sgd_momentum": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.9},
    "rmsprop": {"name": "rmsprop", "learning_rate": 0.005, "momentum": 0.5},
}
SEQ_LEN, VOCAB = 7, 20


def _sequence(rnn: str, optimizer: dict) -> Project:
    layers = [
        {"id": "emb", "type": "Embedding", "input_dim": VOCAB, "output_dim": 5},
        {"id": "rnn", "type": rnn, "units": 6},
        {"id": "out", "type": "Dense", "units": 3},
    ]
    training = {"dataset": {"name": "xor"}, "loss": "cross_entropy", "optimizer": optimizer}
    return from_dict(
        {
            "format": "twintrain/1",
            "model": {"input": {"shape": [SEQ_LEN]}, "layers": layers},
            "training": training,
        }
    )


def _preset(key: str, optimizer: dict) -> Project:
    proj = load_project_arg(key)
    return from_dict({**proj.to_dict(), "training": {**proj.training, "optimizer": optimizer}})


def cases() -> dict[str, Project]:
    out: dict[str, Project] = {}
    for oname, opt in OPTIMIZERS.items():
        out[f"xor_mlp/{oname}"] = _preset("xor_mlp", opt)
        out[f"digits_cnn/{oname}"] = _preset("digits_cnn", opt)
        out[f"emb_gru/{oname}"] = _sequence("GRU", opt)
        out[f"emb_lstm/{oname}"] = _sequence("LSTM", opt)
    return out


def weights_for(name: str, proj: Project) -> dict:
    return init_weights(
        proj, infer(proj, check_dataset=False), seed=zlib.crc32(name.encode()) % 1000
    )


def batches_for(name: str, proj: Project) -> list[tuple[np.ndarray, np.ndarray]]:
    """STEPS batches of BATCH (every fifth one partial): the preset's data, in its own order, or
    token ids whose class is a rule over the sequence."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    sizes = [BATCH if s % 5 != 4 else 5 for s in range(STEPS)]
    if name.startswith("emb_"):
        out = []
        for n in sizes:
            x = rng.integers(0, VOCAB, (n, SEQ_LEN))
            y = (x[:, 0] + x[:, -1]) % 3
            out.append((x.astype(np.float32), y.astype(np.int64)))
        return out
    data = load_data(proj)
    order = rng.permutation(len(data.x_train))
    out, i = [], 0
    for n in sizes:
        idx = order[i : i + n]
        i += n
        out.append((data.x_train[idx], data.y_train[idx]))
    return out
