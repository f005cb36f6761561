"""text_csv: the tokenizer, the vocabulary of the training split, the ids, and every refusal."""

import json
import os

import numpy as np
import pytest

from engine.data import text_csv
from engine.data.catalog import describe, resolve
from engine.data.load import generate, load_data, split_indices
from engine.spec import read_project
from tests.conftest import ROOT
from tests.engine.test_datasets_images import _refused


def _project(tmp_path, csv_text, **dataset):
    (tmp_path / "t.csv").write_text(csv_text, encoding="utf-8")
    ds = {"name": "text_csv", "path": "t.csv", "vocab_size": 10, "length": 4, **dataset}
    doc = {
        "format": "twintrain/1",
        "name": "t",
        "model": {
            "input": {"shape": [ds["length"]]},
            "layers": [
                {"id": "e", "type": "Embedding", "input_dim": ds["vocab_size"], "output_dim": 4},
                {"id": "p", "type": "GlobalAvgPool1D"},
                {"id": "out", "type": "Dense", "units": 2},
            ],
        },
        "training": {"dataset": ds, "loss": "cross_entropy"},
    }
    path = tmp_path / "t.twintrain.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


CSV = 'text,label\n"Rain, rain and MORE rain!",weather\nThe team won 3-1.,sport\n'


def test_tokenize_lowercases_and_splits_on_non_letters():
    assert text_csv.tokenize("Rain, again!  It's 3pm") == ["rain", "again", "it", "s", "pm"]
    assert text_csv.tokenize("Café au-lait") == ["café", "au", "lait"]
    assert text_csv.tokenize("123 ...") == []


def test_ids_vocabulary_padding_and_truncation(tmp_path):
    rows = ["b a a c", "a b", "c c d e f g"]
    (tmp_path / "t.csv").write_text(
        "text,label\n" + "".join(f"{r},{k % 2}x\n" for k, r in enumerate(rows)), encoding="utf-8"
    )
    ds = resolve(
        {"name": "text_csv", "path": "t.csv", "vocab_size": 5, "length": 4, "validation_split": 0}
    )
    x, y = generate(ds, seed=0, base_dir=tmp_path)
    words, names = text_csv.vocabulary(ds, 0, tmp_path)
    # counts: a 3, c 3, b 2, then d e f g 1 each: ties go alphabetically, 3 words kept
    assert words == ["<pad>", "<unk>", "a", "c", "b"]
    assert names == ["0x", "1x"]
    assert x.dtype == np.float32 and x.shape == (3, 4)
    assert x.tolist() == [[4, 2, 2, 3], [2, 4, 0, 0], [3, 3, 1, 1]]
    assert y.tolist() == [0, 1, 0]


def test_vocabulary_counts_only_the_training_split(tmp_path):
    # every row but one says 'common'; each row has a word of its own
    lines = [f"common w{i:03d}x{'z' * (i % 3)},{'ab'[i % 2]}" for i in range(40)]
    lines = [line.replace("0", "o").replace("1", "i") for line in lines]
    (tmp_path / "t.csv").write_text("text,label\n" + "\n".join(lines) + "\n", encoding="utf-8")
    ds = resolve({"name": "text_csv", "path": "t.csv", "vocab_size": 100, "validation_split": 0.5})
    words, _ = text_csv.vocabulary(ds, 7, tmp_path)
    rows, _ = text_csv.read_rows(ds, tmp_path)
    train, val = split_indices(40, 7, 0.5)
    train_words = {w for i in train for w in text_csv.tokenize(rows[i])}
    val_only = {w for i in val for w in text_csv.tokenize(rows[i])} - train_words
    assert val_only and not val_only & set(words)
    assert set(words[2:]) == train_words and words[2] == "common"


def test_load_data_gives_ids_untouched_and_describe_names_the_classes(tmp_path):
    path = _project(tmp_path, CSV + CSV[11:] * 4, validation_split=0.2)
    project = read_project(path)
    data = load_data(project)
    assert data.x_train.shape[1:] == (4,) and data.n_classes == 2
    assert set(np.unique(np.concatenate([data.x_train, data.x_val]))) <= set(range(10))
    info = describe(project.training["dataset"], tmp_path)
    assert info.class_names == ("sport", "weather") and info.n_samples == 10


def test_the_topics_preset_fits_and_its_csv_is_the_generated_one(tmp_path):
    project = read_project(ROOT / "presets" / "topics_embedding.twintrain.json")
    data = load_data(project)
    assert data.n_classes == 3 and data.x_train.shape[1:] == (16,)
    assert len(data.x_train) + len(data.x_val) == 480
    words, names = text_csv.vocabulary(
        resolve(project.training["dataset"]), project.training["seed"], project.base_dir
    )
    assert names == ["food", "sport", "weather"] and len(words) <= 200


def test_text_column_missing(tmp_path, capsys):
    path = _project(tmp_path, CSV, text="body")
    _refused(capsys, path, "'t.csv' has no text column 'body' (columns: text, label)")


def test_label_column_missing(tmp_path, capsys):
    path = _project(tmp_path, CSV, label="topic")
    _refused(capsys, path, "'t.csv' has no label column 'topic' (columns: text, label)")


def test_a_single_label(tmp_path, capsys):
    path = _project(tmp_path, "text,label\nrain,weather\nsnow,weather\n")
    _refused(
        capsys,
        path,
        "every row of column 'label' in 't.csv' has the same label ('weather')",
        "two or more classes",
    )


def test_an_empty_label_names_its_row(tmp_path, capsys):
    path = _project(tmp_path, "text,label\nrain,weather\nsnow,\ngoal,sport\n")
    _refused(capsys, path, "'t.csv' row 3, column 'label' is empty (missing label)")


def test_a_path_outside_the_project_folder(tmp_path, capsys):
    inner = tmp_path / "p"
    inner.mkdir()
    path = _project(inner, CSV, path="../t.csv")
    _refused(capsys, path, "'../t.csv' leaves the project file's folder")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_a_symlink_leading_out(tmp_path, capsys):
    inner = tmp_path / "p"
    inner.mkdir()
    (tmp_path / "outside.csv").write_text(CSV, encoding="utf-8")
    path = _project(inner, CSV, path="link.csv")
    (inner / "link.csv").symlink_to(tmp_path / "outside.csv")
    _refused(capsys, path, "'link.csv' resolves outside the project file's folder")


def test_standard_normalisation_is_refused(tmp_path, capsys):
    path = _project(tmp_path, CSV, normalize="standard")
    _refused(capsys, path, "normalize 'standard' would change the word ids of text_csv")


def test_a_run_folder_keeps_the_labels_and_the_vocabulary(tmp_path):
    from engine.run_folder import LABELS_FILE, RunRecorder
    from engine.session import Session

    rows = "".join(
        f"Rain again on day {i},weather\nThe team won game {i},sport\n" for i in range(6)
    )
    project = read_project(_project(tmp_path, "text,label\n" + rows))
    out = tmp_path / "run"
    out.mkdir()
    with Session(project, frameworks=("torch",)) as session:
        RunRecorder(session, out).close()
    labels = json.loads((out / LABELS_FILE).read_text(encoding="utf-8"))
    assert labels["dataset"] == "text_csv" and labels["class_names"] == ["sport", "weather"]
    words = labels["vocabulary"]
    assert words[:2] == ["<pad>", "<unk>"] and len(words) <= 10  # vocab_size
    assert set(words[2:]) <= {"rain", "again", "on", "day", "the", "team", "won", "game"}
