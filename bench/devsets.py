"""The real development pages with human-made gold bodies, a fixed train/test split, and the
scrapinghub article-extraction-benchmark metric: one place for every benchmark, training
script and test that judges extraction on real pages.

The pages live outside the repository (their licences forbid shipping them):
``../shared/extraction-dev/`` beside the checkout, or wherever ``THRESHER_DEVSETS`` points.
:func:`devsets_root` returns None when they are absent, and every caller says so plainly
instead of reporting figures from nothing.

The split is by a hash of ``<set>/<page id>``, 70% train and 30% test, so it never depends on
file order, on which sets are present, or on anything a model learned: tune and train on
``train`` only, report ``test`` beside the peers.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = ("dragnet_data", "cleaneval-final", "cleaneval-dev", "CleanPortalEval-master", "readability")
TRAIN_SHARE = 70  # percent of pages in the train split


def devsets_root() -> Path | None:
    """Where the dev sets are (``THRESHER_DEVSETS`` or ``../shared/extraction-dev``), or None."""
    env = os.environ.get("THRESHER_DEVSETS")
    root = Path(env) if env else ROOT.parent / "shared" / "extraction-dev"
    return root if (root / "dragnet_data" / "gold.json").is_file() else None


def absent_message() -> str:
    return ("the real dev pages are not here: ../shared/extraction-dev (or $THRESHER_DEVSETS) is missing. "
            "They cannot ship with the repository (licences); nothing was measured.")


def split_of(dataset: str, page_id: str) -> str:
    """``"train"`` or ``"test"``, fixed by a hash of the page's set and id."""
    digest = hashlib.sha256(f"{dataset}/{page_id}".encode("utf-8")).digest()
    return "train" if int.from_bytes(digest[:4], "big") % 100 < TRAIN_SHARE else "test"


@dataclass(frozen=True)
class DevPage:
    """One real page: its bytes as crawled and the gold body a person (or, for ``readability``,
    Readability.js) marked as its main content."""

    dataset: str
    page_id: str
    split: str
    gold: str
    url: str | None
    path: Path

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.page_id}"

    def html(self) -> bytes:
        return gzip.decompress(self.path.read_bytes())


def load_pages(sets: Iterable[str] = SETS, split: str | None = None, root: Path | None = None) -> list[DevPage]:
    """The pages of ``sets`` (all splits, or only ``split``), sorted by set and id. Pages with an
    empty gold body are left out: there is nothing to score them against."""
    root = root or devsets_root()
    if root is None:
        return []
    pages = []
    for name in sets:
        folder = root / name
        gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
        for page_id in sorted(gold):
            body = (gold[page_id].get("articleBody") or "").strip()
            path = folder / f"{page_id}.html.gz"
            if not body or not path.is_file():
                continue
            part = split_of(name, page_id)
            if split is None or part == split:
                pages.append(DevPage(name, page_id, part, body, gold[page_id].get("url"), path))
    return pages


# --------------------------------------------------------------------------- the metric

_TOKEN = re.compile(r"\w+", re.UNICODE)
SHINGLE = 4


def shingle_counts(text: str, n: int = SHINGLE) -> Counter:
    """Runs of ``n`` case-sensitive ``\\w+`` tokens, as scrapinghub's ``evaluate.py`` counts them
    (a text shorter than ``n`` tokens is one shingle of what it has)."""
    toks = _TOKEN.findall(text or "")
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(zip(*(toks[i:] for i in range(n))))


@dataclass(frozen=True)
class PageScore:
    """One page's shingle matches, normalised so every page weighs the same (scrapinghub's way:
    tp + fp + fn = 1 for each page with any text on either side)."""

    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else (1.0 if not self.fn else 0.0)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_page(gold: str, predicted: str) -> PageScore:
    """Shingle matching of one page (scrapinghub ``string_shingle_matching``)."""
    g, p = shingle_counts(gold), shingle_counts(predicted)
    tp = fp = fn = 0
    for key in g.keys() | p.keys():
        a, b = g.get(key, 0), p.get(key, 0)
        tp += min(a, b)
        fp += max(0, b - a)
        fn += max(0, a - b)
    total = tp + fp + fn
    return PageScore(tp / total, fp / total, fn / total) if total else PageScore(0.0, 0.0, 0.0)


@dataclass(frozen=True)
class SetScore:
    """Precision, recall and F1 over a set of pages (sums of the per-page normalised counts),
    and the share of pages a reader would call failures (page F1 under 0.5)."""

    precision: float
    recall: float
    f1: float
    pages: int
    under_half: float


def score_set(scores: Iterable[PageScore]) -> SetScore:
    scores = list(scores)
    tp = sum(s.tp for s in scores)
    fp = sum(s.fp for s in scores)
    fn = sum(s.fn for s in scores)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    bad = sum(1 for s in scores if s.f1 < 0.5)
    return SetScore(p, r, f1, len(scores), bad / len(scores) if scores else 0.0)


def by_set(pages: Iterable[DevPage]) -> Iterator[tuple[str, list[DevPage]]]:
    """Pages grouped by set, in :data:`SETS` order."""
    pages = list(pages)
    for name in SETS:
        group = [p for p in pages if p.dataset == name]
        if group:
            yield name, group


# --------------------------------------------------------------------------- fixture scoring

def tokens(text: str) -> Counter:
    """Lower-cased word tokens with their counts: the bag of words the fixture sets are scored on."""
    return Counter(t.casefold() for t in _TOKEN.findall(text))


def overlap(pred: Counter, gold: Counter) -> tuple[int, int, int]:
    """(tokens in common, tokens predicted, tokens in gold): add these up across pages."""
    return sum((pred & gold).values()), sum(pred.values()), sum(gold.values())


def prf(common: int, predicted: int, gold: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from summed overlap counts (micro-averaged: long pages weigh more)."""
    p = common / predicted if predicted else 0.0
    r = common / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)
