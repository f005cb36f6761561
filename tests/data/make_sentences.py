"""Writes presets/data/topics.csv: 480 short sentences about weather, sport or food.

Run from the repository root: ``python tests/data/make_sentences.py``. Sentences come from simple
templates filled from word lists with a seeded generator, so the file is the same on every run.
Columns: ``text`` and ``topic`` (the label).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent.parent / "presets" / "data" / "topics.csv"
PER_TOPIC = 160

OPENERS = ["today", "this morning", "last night", "on sunday", "yesterday", "tonight", "again"]
TOPICS = {
    "weather": {
        "nouns": ["rain", "snow", "wind", "sun", "fog", "storm", "thunder", "frost", "clouds"],
        "verbs": ["fell", "blew", "came", "returned", "stayed", "cleared", "moved in"],
        "extras": ["over the hills", "across the city", "near the coast", "all day", "outside"],
        "adjs": ["cold", "warm", "wet", "grey", "windy", "sunny", "chilly", "humid"],
    },
    "sport": {
        "nouns": ["team", "match", "goal", "race", "coach", "striker", "league", "referee"],
        "verbs": ["won", "lost", "scored", "trained", "played", "finished", "celebrated"],
        "extras": ["in the final", "at the stadium", "after extra time", "on the pitch", "away"],
        "adjs": ["fast", "tired", "strong", "proud", "unbeaten", "fit", "tactical"],
    },
    "food": {
        "nouns": ["soup", "bread", "pasta", "cake", "salad", "curry", "pie", "cheese", "rice"],
        "verbs": ["tasted", "smelled", "cooked", "baked", "was served", "burned", "sold out"],
        "extras": ["in the kitchen", "for dinner", "at the market", "with garlic", "for lunch"],
        "adjs": ["spicy", "sweet", "salty", "fresh", "crispy", "delicious", "tender"],
    },
}
TEMPLATES = [
    "{opener} the {noun} {verb} {extra}",
    "the {adj} {noun} {verb} {extra}",
    "{opener} it felt {adj} and the {noun} {verb}",
    "everyone said the {noun} was {adj}",
    "the {noun} {verb} {opener}, {adj} as ever",
    "we talked about the {adj} {noun} {extra}",
]


def sentences(rng: random.Random) -> list[tuple[str, str]]:
    rows = []
    for topic, words in TOPICS.items():
        for _ in range(PER_TOPIC):
            text = rng.choice(TEMPLATES).format(
                opener=rng.choice(OPENERS),
                noun=rng.choice(words["nouns"]),
                verb=rng.choice(words["verbs"]),
                extra=rng.choice(words["extras"]),
                adj=rng.choice(words["adjs"]),
            )
            rows.append((text[0].upper() + text[1:] + ".", topic))
    rng.shuffle(rows)
    return rows


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["text", "topic"])
        writer.writerows(sentences(random.Random(19)))


if __name__ == "__main__":
    main()
