"""Which blocks of a page are its article: a small model learned from real pages with gold.

The model is a readable JSON file in the repository (``thresher/data/extract_model.json``),
rebuilt by ``make train-extract`` from the train split of ``../shared/extraction-dev`` (see
``bench/train_extract.py``). It holds boosted decision trees over the block features of
:mod:`thresher.blocks` (or a logistic model, whichever the training's cross-validation chose)
and the probability threshold for keeping a block. Evaluating it needs only numpy: no
training library is imported at run time, and no pickle ties the file to a library version.

Its ``version`` (a hash of the file's content) names the extractor in every record
(``extractor`` column, ``extract@<version>`` removals) and goes into the config hash, so a
retrained model is visible in provenance.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "extract_model.json"


@dataclass(frozen=True)
class Forest:
    """Boosted trees in flat arrays, all trees in one (scikit-learn's node layout, with child
    indices made global): node ``i`` tests ``x[feature[i]] <= threshold[i]`` and goes to
    ``left[i]`` or ``right[i]``; a leaf has ``left[i] == -1`` and holds ``value[i]``. Tree ``t``
    starts at node ``roots[t]``. One array walk per level for all trees and blocks at once: a
    page costs a few dozen numpy calls, not one per tree."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: int


@dataclass(frozen=True)
class SelectionModel:
    version: str
    features: tuple[str, ...]
    threshold: float  # keep a block when its probability is at least this
    base: float  # log-odds before any tree (or the logistic intercept)
    learning_rate: float
    forest: Forest | None
    weights: np.ndarray | None  # logistic coefficients, when kind == "logistic"
    mean: np.ndarray | None
    scale: np.ndarray | None

    def log_odds(self, X: np.ndarray) -> np.ndarray:
        if self.weights is not None:
            return self.base + ((X - self.mean) / self.scale) @ self.weights
        f = self.forest
        if f is None:
            return np.full(X.shape[0], self.base)
        node = np.repeat(f.roots[:, None], X.shape[0], axis=1)  # (trees, blocks)
        cols = np.arange(X.shape[0])[None, :]
        for _ in range(f.depth):  # every block moves one level per step in every tree; leaves stay
            left = f.left[node]
            go_left = X[cols, f.feature[node]] <= f.threshold[node]
            node = np.where(left < 0, node, np.where(go_left, left, f.right[node]))
        return self.base + self.learning_rate * f.value[node].sum(axis=0)

    def probability(self, X: np.ndarray) -> np.ndarray:
        """P(block is article text) for each row of ``X`` (features in :attr:`features` order)."""
        if X.shape[0] == 0:
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-self.log_odds(X)))


def _forest(trees: list[dict]) -> Forest | None:
    if not trees:
        return None
    parts: dict[str, list] = {k: [] for k in ("feature", "threshold", "left", "right", "value")}
    roots, offset = [], 0
    for t in trees:
        roots.append(offset)
        parts["feature"].extend(max(0, int(v)) for v in t["feature"])  # a leaf's feature is never read
        parts["threshold"].extend(t["threshold"])
        parts["left"].extend(int(v) + offset if v >= 0 else -1 for v in t["left"])
        parts["right"].extend(int(v) + offset if v >= 0 else -1 for v in t["right"])
        parts["value"].extend(t["value"])
        offset += len(t["feature"])
    return Forest(np.asarray(parts["feature"], dtype=np.int64), np.asarray(parts["threshold"], dtype=np.float64),
                  np.asarray(parts["left"], dtype=np.int64), np.asarray(parts["right"], dtype=np.int64),
                  np.asarray(parts["value"], dtype=np.float64), np.asarray(roots, dtype=np.int64),
                  max(int(t["depth"]) for t in trees))


def model_from_json(data: dict, version: str) -> SelectionModel:
    logistic = data.get("logistic")
    return SelectionModel(
        version=version,
        features=tuple(data["features"]),
        threshold=float(data["threshold"]),
        base=float(data["base"]),
        learning_rate=float(data.get("learning_rate", 1.0)),
        forest=_forest(data.get("trees", [])),
        weights=np.asarray(logistic["weights"]) if logistic else None,
        mean=np.asarray(logistic["mean"]) if logistic else None,
        scale=np.asarray(logistic["scale"]) if logistic else None,
    )


def model_version(raw: bytes) -> str:
    """Twelve hex characters of the model file's sha256: any retraining changes it."""
    return hashlib.sha256(raw).hexdigest()[:12]


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> SelectionModel:
    """The selection model (read once per process; the file is immutable while a run lasts)."""
    raw = path.read_bytes()
    return model_from_json(json.loads(raw), model_version(raw))
