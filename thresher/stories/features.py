"""What identifies a news event in an article, as a short weighted term vector.

Stories are decided on these vectors, not on raw text: an article becomes at most ``TOP_TERMS``
weighted features drawn from its title and lead (boosted: that is where a news article says
what happened), its body, the names it mentions (runs of capitalised words, also joined, so
``Ha Noi`` and ``Hanoi`` meet) and its numbers (``2,500 delegates``, ``71 articles``: what
separates Tuesday's market report from Wednesday's). A feature is weighted by how rare its
words are in the language (wordfreq's frequency lists, shipped inside the package: nothing is
downloaded, and the weights do not depend on what else is in the archive, so an article's
vector is the same in every run and a small archive is not mis-weighted), times a damped
count. Vectors are L2-normalised, so the dot product of two is their cosine similarity.

Pure functions: text in, arrays out. Vectors are stored in the archive's story index as two
parallel lists (feature hashes, weights).
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

# Features kept per article: enough for the names, numbers and key words of a story; the long
# tail of an article's vocabulary adds noise and index size, not evidence (measured: 48 to 160
# change pair F1 on the labelled set by under 0.01; see docs/stories.md).
TOP_TERMS = 96
# The first LEAD_WORDS words of the text are its lead, the rest (up to BODY_WORDS) its body:
# news puts who/what/where/when first; a long feature's later paragraphs drift to background.
LEAD_WORDS = 80
BODY_WORDS = 600
# How much one occurrence counts, by where it is.
TITLE_BOOST, LEAD_BOOST, BODY_BOOST = 3.0, 2.0, 1.0
# Word rarity: weight = ZIPF_CEILING - zipf frequency (wordfreq: log10 of uses per billion
# words), so "the" (7.7) and "said" (6.0) weigh nothing or little, "ceremony" (4.4) 2.1 and a
# word too rare for the list (below zipf ~3) RARE_WEIGHT.
ZIPF_CEILING = 6.5
RARE_WEIGHT = ZIPF_CEILING - 2.0
# Names and numbers: a name's weight is its rarest word's, times NAME_BOOST; a number with two
# or more digits weighs NUMBER_WEIGHT (a year, which every story of that year shares, YEAR_WEIGHT).
NAME_BOOST = 1.5
NUMBER_WEIGHT = 3.0
YEAR_WEIGHT = 0.5
# Numbers in the title and lead are the event's facts; two articles whose leads state at least
# MIN_FACTS such numbers each, none in common, are held to report different facts.
MIN_FACTS = 2
# Frequency lists exist for these languages; others fall back to English's (their words then
# mostly count as rare, which still ranks names and numbers high).
FALLBACK_LANGUAGE = "en"

# A token: a number with digit groups (38,714; 4.21) or a word with inner apostrophes, dots or
# hyphens (I'm, U.S., e-mail).
_WORD = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\w+(?:['’.\-]\w+)*", re.UNICODE)
_NUMERIC = re.compile(r"[\d.,]+")
# Clock times and the day of a date ("11:40", "July 24", "24 Jul") are when, not what: every
# story of that day states them. They weigh like a year and are not facts.
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
_MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_SENTENCE_MARKS = frozenset(".!?:;\"“”«»()[]|–—-•")
# Lower-case words that may sit inside a name ("Bank of England", "Ho Chi Minh", "van Gogh").
_NAME_GLUE = frozenset({"of", "de", "du", "des", "la", "le", "van", "von", "der", "den", "al", "bin", "da", "di", "del", "y"})


@dataclass(frozen=True)
class StoryVector:
    """An article's sparse, L2-normalised feature vector: sorted uint32 feature hashes and
    their float32 weights."""

    terms: np.ndarray
    weights: np.ndarray
    # Hashes of the numbers stated in the title and lead (not years): the facts of the event.
    facts: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint32))

    def __len__(self) -> int:
        return len(self.terms)


@lru_cache(maxsize=8)
def _zipf_table(language: str) -> dict[str, float]:
    """zipf frequency of each word on wordfreq's short list for ``language`` (about 30,000 of
    its most used words: the rest count as rare). Cached per process: it is constant data."""
    import wordfreq  # imported here: a run that never clusters stories never loads the lists

    lang = language if language in wordfreq.available_languages("small") else FALLBACK_LANGUAGE
    return {w: math.log10(f) + 9.0 for w, f in wordfreq.get_frequency_dict(lang, "small").items() if f > 0}


def word_weight(word: str, table: dict[str, float]) -> float:
    """How much a (case-folded) word says about an article: rarer words say more."""
    zipf = table.get(word)
    return RARE_WEIGHT if zipf is None else max(0.0, ZIPF_CEILING - zipf)


def feature_hash(feature: str) -> int:
    """A stable 32-bit id of a feature (crc32: the same in every process and run)."""
    return zlib.crc32(feature.encode("utf-8"))


def _number(token: str) -> str | None:
    """The number a token states, normalised (``2,500`` and ``2500`` agree), or None when the
    token is not a number or has a single digit (too common to tell events apart)."""
    if not _NUMERIC.fullmatch(token) or sum(c.isdigit() for c in token) < 2:
        return None
    return token.replace(",", "").rstrip(".")


def _is_year(number: str) -> bool:
    """1900-2100: a year, which every story of that year states."""
    return len(number) == 4 and number.isdigit() and 1900 <= int(number) <= 2100


def _scan(text: str, boost: float, table: dict[str, float], acc: dict[str, list[float]]) -> None:
    """Add the words, names and numbers of ``text`` to ``acc`` (feature -> [count, weight])."""
    run: list[str] = []
    words: list[str] = []
    run_start_sentence = False
    prev_end = 0

    def close_run() -> None:
        while run and run[-1].casefold() in _NAME_GLUE:
            run.pop()
        if not run or (len(run) == 1 and run_start_sentence):
            run.clear()
            return
        words = [w.casefold() for w in run]
        weight = max(word_weight(w, table) for w in words) * NAME_BOOST
        if weight <= 0:  # "I'm", "The": capitalised, but not a name
            run.clear()
            return
        names = {"e:" + " ".join(words)}
        if len(words) > 1:
            names.add("e:" + "".join(words))
        for name in names:
            entry = acc.setdefault(name, [0.0, weight])
            entry[0] += boost
        run.clear()

    text = _TIME.sub(" ", text)
    tokens = list(_WORD.finditer(text))
    for i, match in enumerate(tokens):
        token = match.group().replace("’", "'")
        between = text[prev_end : match.start()]
        prev_end = match.end()
        gap = between.strip()
        sentence_start = match.start() == 0 or "\n" in between or (bool(gap) and gap[-1] in _SENTENCE_MARKS)
        if run and (gap or "\n" in between):
            close_run()
        number = _number(token) if token[0].isdigit() else None
        if number is not None:
            close_run()
            near = {tokens[j].group().casefold().rstrip(".") for j in (i - 1, i + 1) if 0 <= j < len(tokens)}
            calendar = _is_year(number) or number.count(".") > 1 or bool(near & _MONTHS)
            entry = acc.setdefault("n:" + number, [0.0, YEAR_WEIGHT if calendar else NUMBER_WEIGHT])
            entry[0] += boost
            continue
        folded = token.casefold()
        if token[0].isupper():
            if not run:
                run_start_sentence = sentence_start
            run.append(token)
        elif run:
            if folded in _NAME_GLUE:
                run.append(token)
            else:
                close_run()
        words.append(folded)
    close_run()
    for folded, count in Counter(words).items():  # each distinct word looked up once
        if len(folded) > 1:
            weight = word_weight(folded, table)
            if weight > 0:
                entry = acc.setdefault(folded, [0.0, weight])
                entry[0] += boost * count


def _first_words(text: str, n: int) -> tuple[str, str]:
    """``text`` split after its first ``n`` words (the lead) and at ``BODY_WORDS`` words."""
    ends = [m.end() for m in re.finditer(r"\S+", text)]
    if len(ends) <= n:
        return text, ""
    cut = ends[n - 1]
    stop = ends[min(len(ends), BODY_WORDS) - 1]
    return text[:cut], text[cut:stop]


def story_vector(title: str | None, text: str, language: str | None = None, top: int | None = None,
                 channels: str = "wen") -> StoryVector:
    """The article's event features: title and lead boosted, names and numbers included,
    weighted by rarity, damped by ``1 + log(count)``, the ``top`` strongest kept, normalised."""
    table = _zipf_table(language or FALLBACK_LANGUAGE)
    acc: dict[str, list[float]] = {}
    lead, body = _first_words(text or "", LEAD_WORDS)
    if title:
        _scan(title, TITLE_BOOST, table, acc)
    _scan(lead, LEAD_BOOST, table, acc)
    facts = np.unique(np.array([feature_hash(f) for f, (_, w) in acc.items() if f.startswith("n:") and w == NUMBER_WEIGHT],
                               dtype=np.uint32))
    _scan(body, BODY_BOOST, table, acc)
    top = TOP_TERMS if top is None else top
    scored: dict[int, float] = defaultdict(float)
    for feature, (count, weight) in acc.items():
        kind = feature[0] if feature[1:2] == ":" else "w"
        if kind not in channels:
            continue
        scored[feature_hash(feature)] += (1.0 + math.log(count)) * weight if count >= 1 else count * weight
    if not scored:
        return StoryVector(np.empty(0, np.uint32), np.empty(0, np.float32), facts)
    keys = np.fromiter(scored.keys(), dtype=np.uint32, count=len(scored))
    vals = np.fromiter(scored.values(), dtype=np.float64, count=len(scored))
    if len(keys) > top:
        keep = np.argpartition(-vals, top - 1)[:top]
        keys, vals = keys[keep], vals[keep]
    order = np.argsort(keys)
    keys, vals = keys[order], vals[order]
    norm = float(np.sqrt((vals * vals).sum()))
    return StoryVector(keys, (vals / norm).astype(np.float32) if norm else vals.astype(np.float32), facts)


def facts_conflict(a: StoryVector, b: StoryVector) -> bool:
    """Both leads state numbers (at least ``MIN_FACTS`` each) and none of them agree: two
    reports on one template with different facts (Tuesday's and Wednesday's market close, two
    quarters' results), not two reports of one event."""
    if len(a.facts) < MIN_FACTS or len(b.facts) < MIN_FACTS:
        return False
    return not np.intersect1d(a.facts, b.facts, assume_unique=True).size


def cosine(a: StoryVector, b: StoryVector) -> float:
    """Cosine similarity of two story vectors (both normalised: the dot product)."""
    _, ia, ib = np.intersect1d(a.terms, b.terms, assume_unique=True, return_indices=True)
    return float(np.dot(a.weights[ia].astype(np.float64), b.weights[ib].astype(np.float64)))
