"""The dump line model's trees give the scores their file says, whatever the row: the packed
evaluation (numpy, all lines and trees at once) agrees with a plain walk of the nested trees."""

from __future__ import annotations

import dataclasses
import math
import random

from thresher.extract.linefeatures import FEATURES
from thresher.extract.linemodel import load_line_model, tree_scores


def _walk(trees, row: dict[str, float]) -> float:
    total = 0
    for node in trees:
        while "leaf" not in node:
            node = node["left"] if row[node["feature"]] <= node["threshold"] else node["right"]
        total += node["leaf"]
    return total


def test_the_packed_trees_score_every_row_as_a_walk_of_the_nested_trees():
    model = load_line_model()
    rng = random.Random(7)
    thresholds = sorted({(n["feature"], n["threshold"]) for n in _splits(model.trees)})
    rows = []
    for _ in range(300):  # values near the model's own thresholds, on both sides and on them
        row = {name: rng.choice([0.0, 1.0, rng.uniform(-5, 500)]) for name in FEATURES}
        for name, threshold in rng.sample(thresholds, 40):
            row[name] = rng.choice([threshold, math.nextafter(threshold, math.inf), threshold - 1])
        rows.append(row)
    rows[0] = {name: math.nan for name in FEATURES}  # NaN goes right, as in Python
    order = list(reversed(FEATURES))  # columns in another order than the model's
    got = tree_scores(model, [[row[name] for name in order] for row in rows], order)
    assert got == [_walk(model.trees, row) for row in rows]


def test_a_changed_model_is_evaluated_with_its_own_trees():
    model = load_line_model()
    flipped = dataclasses.replace(model, trees=tuple(_negated(t) for t in model.trees))
    row = [[0.5] * len(FEATURES)]
    assert tree_scores(flipped, row, FEATURES) == [-tree_scores(model, row, FEATURES)[0]]
    assert tree_scores(model, [], FEATURES) == []


def _splits(trees):
    stack = list(trees)
    while stack:
        node = stack.pop()
        if "leaf" not in node:
            yield node
            stack += [node["left"], node["right"]]


def _negated(node: dict) -> dict:
    if "leaf" in node:
        return {"leaf": -node["leaf"]}
    return {**node, "left": _negated(node["left"]), "right": _negated(node["right"])}
