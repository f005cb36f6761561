"""The notes beside the figures say true, specific things: which optimizer ran and what it costs,
and in native mode, once the curves part, which real difference of the frameworks parts them."""

from __future__ import annotations

from backend_cases import project

from engine.summary import MATCHED_OPTIMIZER_COST, parity_notes, timing_notes

_MLP = [{"type": "Dense", "units": 4}, {"type": "Dense", "units": 2}]
_TEXT = [
    {"type": "Embedding", "input_dim": 10, "output_dim": 4},
    {"type": "GlobalAvgPool1D"},
    {"type": "Dense", "units": 2},
]


def test_timing_note_names_the_optimizer_that_ran_and_its_figure():
    (adam,) = timing_notes("matched", ("torch", "tensorflow"), {"name": "adam"})
    assert (
        "Keras-formula Adam" in adam
        and "not torch.optim.Adam" in adam
        and "about 15% faster" in adam
    )
    (rms,) = timing_notes("matched", ("torch",), {"name": "rmsprop", "learning_rate": 0.01})
    assert (
        "RMSprop" in rms
        and f"about {round((1 - MATCHED_OPTIMIZER_COST['rmsprop']) * 100)}% faster" in rms
    )
    (mom,) = timing_notes("matched", ("torch",), {"name": "sgd", "momentum": 0.9})
    assert "SGD with momentum" in mom and "about 4% faster" in mom
    (sgd,) = timing_notes("matched", ("torch",), {"name": "sgd"})
    assert "as fast as torch.optim.SGD, within 2%" in sgd
    assert timing_notes("native", ("torch", "tensorflow"), {"name": "adam"}) == []
    assert timing_notes("matched", ("tensorflow",), {"name": "adam"}) == []
    assert "9%" not in adam


def test_native_mode_names_the_real_difference_only_once_the_curves_part():
    adam = project([6], _MLP, optimizer={"name": "adam", "learning_rate": 0.01})
    assert parity_notes(adam, "matched", "native", parted=False) == [
        "native optimizers: each framework ran its stock update formula, so the losses part slowly"
    ]
    notes = parity_notes(adam, "matched", "native", parted=True)
    assert any("epsilon to sqrt(v) before the bias correction" in n for n in notes)
    assert parity_notes(adam, "matched", "matched", parted=True) == []
    sgd = project([6], _MLP, optimizer={"name": "sgd", "learning_rate": 0.1})
    assert len(parity_notes(sgd, "matched", "native", parted=True)) == 1  # SGD: the same update


def test_native_mode_names_keras_sparse_embedding_updates():
    for name in ("adam", "adamw", "rmsprop"):
        text = project([5], _TEXT, optimizer={"name": name, "learning_rate": 0.01})
        notes = parity_notes(text, "matched", "native", parted=True)
        assert any(
            n.startswith("Embedding: Keras on TensorFlow gets a sparse gradient") and name in n
            for n in notes
        )
    sgd = project([5], _TEXT, optimizer={"name": "sgd", "learning_rate": 0.1})
    assert not any(
        n.startswith("Embedding") for n in parity_notes(sgd, "matched", "native", parted=True)
    )
