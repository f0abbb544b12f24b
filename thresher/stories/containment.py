"""What each new article shares with earlier ones: shared paragraphs and containment.

Between a copy (dedup's business) and an unrelated article lies overlap: a 150-word wire brief
printed inside a 1,200-word feature has a Jaccard similarity near 0.1, so near-duplicate
detection ignores it, yet every word of the brief is in the feature. This stage records it.

Texts are compared paragraph by paragraph (paragraphs are separated by a blank line in
``text``), after normalisation to lower-case word tokens (:func:`thresher.dedup.signatures.paragraph_hash`).
For a new canonical article and an earlier one that share at least one paragraph:

* ``paragraphs``: the indices of the new article's paragraphs that the earlier one also has;
* ``containment``: the share of the *shorter* article's words that lie in paragraphs the two
  share; at ``CONTAINED`` or more the relation is ``contained_in`` (the new article is the
  shorter, printed inside the earlier one) or ``contains`` (the earlier one is inside the new
  one), else ``shares``.

Paragraphs under ``MIN_WORDS`` words ("Advertisement", "Read more", a dateline) are not
compared: they are shared by chance. Only the earlier articles found through the paragraph
index take part: nothing is compared pair by pair across the archive.

In: per article, its paragraph hashes and word counts; out: a list of overlaps per article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from thresher.dedup.signatures import dedup_tokens, paragraph_hash

# The shorter text is "contained" in the other when this share of its words is in shared
# paragraphs (the bar; a brief with a new dateline paragraph still reaches it).
CONTAINED = 0.8
# Paragraphs shorter than this are not compared (boilerplate lines, datelines, captions).
MIN_WORDS = 8
# An article lists at most this many earlier articles it overlaps (the most contained first):
# a wire story printed by 300 sites would otherwise carry 300 entries in every later copy.
MAX_OVERLAPS = 20

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Paragraphs:
    """An article as the overlap index holds it: per paragraph, a hash (0 for paragraphs too
    short to compare) and a word count."""

    doc_id: str
    hashes: np.ndarray  # int64
    words: np.ndarray  # int32

    @property
    def total_words(self) -> int:
        return int(self.words.sum())


@dataclass(frozen=True)
class Overlap:
    """One earlier article the new one shares text with."""

    doc_id: str
    relation: str  # contained_in, contains or shares
    containment: float
    paragraphs: tuple[int, ...]

    def as_row(self) -> dict:
        return {"doc_id": self.doc_id, "relation": self.relation, "containment": self.containment,
                "paragraphs": list(self.paragraphs)}


def paragraphs_of(doc_id: str, text: str) -> Paragraphs:
    """Hash and count the paragraphs of a cleaned text."""
    hashes, words = [], []
    for para in _PARAGRAPH_BREAK.split(text or ""):
        n = len(dedup_tokens(para))
        if n == 0:
            continue
        hashes.append(paragraph_hash(para) if n >= MIN_WORDS else 0)
        words.append(n)
    return Paragraphs(doc_id, np.array(hashes, dtype=np.int64), np.array(words, dtype=np.int32))


def _overlap(new: Paragraphs, old: Paragraphs) -> Overlap | None:
    old_set = set(old.hashes[old.hashes != 0].tolist())
    new_set = set(new.hashes[new.hashes != 0].tolist())
    shared = old_set & new_set
    if not shared:
        return None
    mine = tuple(int(i) for i, h in enumerate(new.hashes.tolist()) if h in shared)
    new_shared = int(sum(int(new.words[i]) for i in mine))
    old_shared = int(sum(int(w) for h, w in zip(old.hashes.tolist(), old.words.tolist()) if h in shared))
    # The shorter article decides: how much of it is in the other.
    if new.total_words <= old.total_words:
        containment, relation = new_shared / max(1, new.total_words), "contained_in"
    else:
        containment, relation = old_shared / max(1, old.total_words), "contains"
    containment = round(min(1.0, containment), 4)
    return Overlap(old.doc_id, relation if containment >= CONTAINED else "shares", containment, mine)


def find_overlaps(new: Sequence[Paragraphs], earlier: Iterable[Paragraphs]) -> dict[str, list[Overlap]]:
    """For each article of ``new`` (in the order given: each also sees those before it), the
    earlier articles it shares at least one paragraph with, most contained first.

    ``earlier`` are archived articles; the caller passes only those sharing a paragraph hash
    with ``new`` (read from the index by hash), so memory follows the run, not the archive.
    """
    by_hash: dict[int, list[Paragraphs]] = {}

    def index(doc: Paragraphs) -> None:
        for h in set(doc.hashes[doc.hashes != 0].tolist()):
            by_hash.setdefault(h, []).append(doc)

    for doc in earlier:
        index(doc)
    out: dict[str, list[Overlap]] = {}
    for doc in new:
        seen: dict[str, Paragraphs] = {}
        for h in set(doc.hashes[doc.hashes != 0].tolist()):
            for other in by_hash.get(h, ()):
                if other.doc_id != doc.doc_id:
                    seen[other.doc_id] = other
        found = [o for o in (_overlap(doc, other) for other in seen.values()) if o is not None]
        found.sort(key=lambda o: (-o.containment, o.doc_id))
        out[doc.doc_id] = found[:MAX_OVERLAPS]
        index(doc)
    return out
