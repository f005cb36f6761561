"""Text classification from a CSV file: one column of text, one of labels.

The tokenizer is plain Python: lower-case, split on anything that is not a letter. The
vocabulary is the ``vocab_size - 2`` most frequent words of the TRAINING split (ties broken
alphabetically); id 0 pads, id 1 stands for a word outside the vocabulary, and the other words
take ids 2, 3, ... in that order. Each text becomes its first ``length`` ids, padded with 0 at the
end, stored as float32 (the model input is float32; an Embedding reads the ids from it). Labels
are class ids in the order of the sorted label names. ``vocabulary`` gives the words and label
names, so a run can keep them next to its weights.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import numpy as np

from engine.data.files import _fail, _short, resolve_path
from engine.data.load import split_indices
from engine.spec.errors import SpecError

PAD, UNKNOWN = "<pad>", "<unk>"
_WORD = re.compile(r"[^\W\d_]+")  # runs of letters (any alphabet)


def tokenize(text: str) -> list[str]:
    """Lower-cased runs of letters: 'Rain, again!' -> ['rain', 'again']."""
    return _WORD.findall(text.lower())


def read_rows(dataset: dict, base_dir: Path | None) -> tuple[list[str], list[str]]:
    """(texts, labels) of a resolved text_csv section, checked; every error names the row."""
    full = resolve_path(dataset["path"], base_dir)
    shown, text_col, label_col = dataset["path"], dataset["text"], dataset["label"]
    texts: list[str] = []
    labels: list[str] = []
    try:
        with open(full, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header: list[str] | None = None
            t = k = 0
            for row in reader:
                if not any(c.strip() for c in row):
                    continue
                if header is None:
                    header = [h.strip() for h in row]
                    for col, key, role in (
                        (text_col, "text", "text"),
                        (label_col, "label", "label"),
                    ):
                        if col not in header:
                            raise _fail(
                                f"'{shown}' has no {role} column '{col}' "
                                f"(columns: {', '.join(header[:20])})",
                                key,
                            )
                    t, k = header.index(text_col), header.index(label_col)
                    continue
                line = reader.line_num
                if len(row) != len(header):
                    raise _fail(
                        f"'{shown}' row {line} has {len(row)} values, "
                        f"the header (row 1) has {len(header)}"
                    )
                label = row[k].strip()
                if not label:
                    raise _fail(
                        f"'{shown}' row {line}, column '{label_col}' is empty (missing label)",
                        "label",
                    )
                texts.append(row[t])
                labels.append(label)
    except SpecError:
        raise
    except UnicodeDecodeError:
        raise _fail(f"'{shown}' is not UTF-8 text; save it as UTF-8") from None
    except csv.Error as exc:
        raise _fail(f"'{shown}' is not valid CSV ({exc})") from None
    except OSError as exc:
        raise _fail(f"'{shown}' cannot be read ({exc.strerror or exc})") from None
    if not labels:
        raise _fail(f"'{shown}' needs a header row and at least one data row")
    names = sorted(set(labels))
    if len(names) < 2:
        raise _fail(
            f"every row of column '{label_col}' in '{shown}' has the same label "
            f"('{_short(names[0])}'); classification needs two or more classes",
            "label",
        )
    return texts, labels


def _vocab(tokens: list[list[str]], train: np.ndarray, vocab_size: int) -> list[str]:
    counts: Counter[str] = Counter()
    for i in train:
        counts.update(tokens[i])
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [PAD, UNKNOWN] + [w for w, _ in ranked[: vocab_size - 2]]


def _build(
    dataset: dict, seed: int, base_dir: Path | None
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    texts, labels = read_rows(dataset, base_dir)
    tokens = [tokenize(t) for t in texts]
    train, _val = split_indices(len(texts), seed, dataset["validation_split"])
    words = _vocab(tokens, train, dataset["vocab_size"])
    ids = {w: i for i, w in enumerate(words) if i >= 2}
    length = dataset["length"]
    x = np.zeros((len(texts), length), dtype=np.float32)
    for row, toks in enumerate(tokens):
        seq = [ids.get(w, 1) for w in toks[:length]]
        x[row, : len(seq)] = seq
    names = sorted(set(labels))
    index = {name: i for i, name in enumerate(names)}
    y = np.fromiter((index[v] for v in labels), dtype=np.int64, count=len(labels))
    return x, y, words, names


def load(dataset: dict, seed: int, base_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """(x [n, length] float32 word ids, y [n] int64 class ids) for a resolved section."""
    x, y, _, _ = _build(dataset, seed, base_dir)
    return x, y


def vocabulary(dataset: dict, seed: int, base_dir: Path | None) -> tuple[list[str], list[str]]:
    """(words by id, label names by class id) that ``load`` uses with the same seed and section:
    words[0] is '<pad>', words[1] '<unk>'."""
    _, _, words, names = _build(dataset, seed, base_dir)
    return words, names


def count(dataset: dict, base_dir: Path | None) -> tuple[int, list[str]]:
    """(samples, sorted label names), the file checked as ``load`` checks it."""
    if dataset["normalize"] == "standard":
        raise SpecError(
            "normalize 'standard' would change the word ids of text_csv; use 'none' or 'default'",
            field="training.dataset.normalize",
        )
    _texts, labels = read_rows(dataset, base_dir)
    return len(labels), sorted(set(labels))
