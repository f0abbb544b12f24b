"""Per-line features of a text dump, for the dump line model.

A text dump has no markup left, so whether a line is article or chaff shows only in the line
itself (length, sentence shape, stop words of the page's language, capitals, digits), in where
it sits (position, the dense run of prose around it, its neighbours) and in what the named
rules thought of it (which rule would remove it). :func:`line_features` turns the non-blank
lines of one page into one row of numbers per line, in the order of :data:`FEATURES`; the
model file stores its weights by those names, so training and cleaning share this code and
cannot drift apart.

Pure: the same lines, rule signals and language always give the same rows.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

from thresher.config import DEFAULT_RULES
from thresher.rules.predicates import ends_sentence, is_paragraph, is_title_like, is_upper_banner
from thresher.text import word_count

_TOKEN = re.compile(r"\w+", re.UNICODE)
_SEPARATORS = re.compile(r"\s[|»›·•/>]\s|^[|»›·•]|[|»›·•]$")
_MARKERS = re.compile(r"©|\bhttps?://|www\.|@\w|^\s*(?:\d+[.)]|[-*•·›»])\s")
_SENTENCE_INSIDE = re.compile(r"[.!?。！？][\"'”’»)]*\s+\S")

# py3langid codes -> jusText's stop-word lists (jusText ships with trafilatura: no new dependency)
STOPLIST_NAMES = {
    "af": "Afrikaans", "sq": "Albanian", "ar": "Arabic", "hy": "Armenian", "az": "Azerbaijani", "eu": "Basque",
    "be": "Belarusian", "bn": "Bengali", "bs": "Bosnian", "br": "Breton", "bg": "Bulgarian", "ca": "Catalan",
    "hr": "Croatian", "cs": "Czech", "da": "Danish", "nl": "Dutch", "en": "English", "eo": "Esperanto",
    "et": "Estonian", "fi": "Finnish", "fr": "French", "gl": "Galician", "ka": "Georgian", "de": "German",
    "el": "Greek", "gu": "Gujarati", "ht": "Haitian", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
    "is": "Icelandic", "id": "Indonesian", "ga": "Irish", "it": "Italian", "jv": "Javanese", "kn": "Kannada",
    "kk": "Kazakh", "ko": "Korean", "ku": "Kurdish", "ky": "Kyrgyz", "la": "Latin", "lv": "Latvian",
    "lt": "Lithuanian", "lb": "Luxembourgish", "mk": "Macedonian", "ms": "Malay", "ml": "Malayalam",
    "mt": "Maltese", "mr": "Marathi", "ne": "Nepali", "nb": "Norwegian_Bokmal", "no": "Norwegian_Bokmal",
    "nn": "Norwegian_Nynorsk", "oc": "Occitan", "fa": "Persian", "pl": "Polish", "pt": "Portuguese",
    "qu": "Quechua", "ro": "Romanian", "ru": "Russian", "sr": "Serbian", "sk": "Slovak", "sl": "Slovenian",
    "es": "Spanish", "sw": "Swahili", "sv": "Swedish", "tl": "Tagalog", "ta": "Tamil", "te": "Telugu",
    "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek", "vi": "Vietnamese", "cy": "Welsh",
    "fy": "West_Frisian", "yo": "Yoruba",
}


@lru_cache(maxsize=16)
def stopwords(language: str | None) -> frozenset[str]:
    """The stop words of ``language`` (ISO 639-1), or an empty set when jusText has no list
    (Chinese, Japanese: their stop-word share is then 0 and the other features decide)."""
    name = STOPLIST_NAMES.get(language or "")
    if name is None:
        return frozenset()
    import justext

    return frozenset(justext.get_stoplist(name))


# The rules whose signals the model sees: one flag per rule, "the rules would remove this line".
RULE_FLAGS = tuple(f"rule_{name}" for name in DEFAULT_RULES)

_LINE = ("words", "chars", "ends_sentence", "stop_share", "stop_count", "comma_rate", "caps_share",
         "digit_share", "upper_banner", "paragraph", "title_like", "separators", "sentences", "ellipsis",
         "ends_colon", "starts_lower", "word_length", "markers", "ends_question", "repeated", "seen_before",
         "rule_any")
WINDOW = (-3, -2, -1, 1, 2, 3)  # neighbours whose own features the model sees
_NEIGHBOUR = ("words", "stop_share", "paragraph", "ends_sentence", "rule_any")
_CONTEXT = ("rel_position", "words_before", "in_core", "core_distance", "para_near3", "para_near10",
            "stop_near3", "words_vs_max", "page_lines", "page_para_share", "prose_words_near5",
            "since_prose", "until_prose", "short_run", "after_core", "before_core", "core_share")

FEATURES: tuple[str, ...] = (
    _LINE
    + RULE_FLAGS
    + tuple(f"n{off:+d}_{name}" for off in WINDOW for name in _NEIGHBOUR)
    + tuple(f"n{off:+d}_exists" for off in WINDOW)
    + _CONTEXT
)


def _line_row(text: str, stops: frozenset[str]) -> dict[str, float]:
    toks = _TOKEN.findall(text)
    n = word_count(text)
    stop_n = sum(1 for t in toks if t.casefold() in stops)
    words = text.split()
    letters_or_digits = sum(1 for c in text if c.isalnum()) or 1
    return {
        "words": math.log1p(n),
        "chars": math.log1p(len(text)),
        "ends_sentence": float(ends_sentence(text)),
        "stop_share": stop_n / len(toks) if toks else 0.0,
        "stop_count": math.log1p(stop_n),
        "comma_rate": min(1.0, text.count(",") / max(1, n)),
        "caps_share": sum(1 for w in words if w[:1].isupper()) / len(words) if words else 0.0,
        "digit_share": sum(1 for c in text if c.isdigit()) / letters_or_digits,
        "upper_banner": float(is_upper_banner(text)),
        "paragraph": float(is_paragraph(text)),
        "title_like": float(is_title_like(text)),
        "separators": float(bool(_SEPARATORS.search(text))),
        "sentences": math.log1p(len(_SENTENCE_INSIDE.findall(text)) + ends_sentence(text)),
        "ellipsis": float(text.endswith(("...", "…")) or text.endswith(("...)", "…)"))),
        "ends_colon": float(text.endswith(":")),
        "starts_lower": float(text[:1].islower()),
        "word_length": min(20.0, sum(len(t) for t in toks) / len(toks)) if toks else 0.0,
        "markers": float(bool(_MARKERS.search(text))),
        "ends_question": float(text.rstrip("\"'”’»)").endswith("?")),
    }


def _prose(row: dict[str, float]) -> bool:
    return row["paragraph"] > 0 and (row["stop_share"] >= 0.15 or row["stop_count"] == 0.0)


def _core(rows: list[dict[str, float]], counts: list[int]) -> tuple[int, int]:
    """The densest run of prose (maximum-sum segment: prose lines add their words, other lines
    take away), as body-text extraction by token density does; (start, end) half-open."""
    best, best_span, acc, start = 0.0, (0, 0), 0.0, 0
    for i, (row, n) in enumerate(zip(rows, counts)):
        gain = n if _prose(row) else -(2 + 0.5 * n)
        if acc <= 0:
            acc, start = 0.0, i
        acc += gain
        if acc > best:
            best, best_span = acc, (start, i + 1)
    return best_span


def line_features(lines: Sequence[str], rule_of: Sequence[str | None], language: str | None) -> list[list[float]]:
    """One row per line, in :data:`FEATURES` order. ``rule_of[i]`` names the rule that would
    remove line ``i`` whole (None when the rules keep it)."""
    stops = stopwords(language)
    n = len(lines)
    rows = [_line_row(t, stops) for t in lines]
    counts = [word_count(t) for t in lines]
    seen: Counter = Counter()
    total = Counter(lines)
    for i, (t, row) in enumerate(zip(lines, rows)):
        row["repeated"] = float(total[t] > 1)
        row["seen_before"] = float(seen[t] > 0)
        seen[t] += 1
        rule = rule_of[i]
        row["rule_any"] = float(rule is not None)
        for flag in RULE_FLAGS:
            row[flag] = 0.0
        if rule is not None and f"rule_{rule}" in row:
            row[f"rule_{rule}"] = 1.0
    core_start, core_end = _core(rows, counts)
    prose = [1.0 if _prose(r) else 0.0 for r in rows]
    cum = [0]
    for c in counts:
        cum.append(cum[-1] + c)
    total_words = cum[-1] or 1
    max_words = max(counts, default=1) or 1
    para_share = sum(prose) / n if n else 0.0

    def near(values: list[float], i: int, k: int) -> float:
        lo, hi = max(0, i - k), min(n, i + k + 1)
        return (sum(values[lo:hi]) - values[i]) / max(1, hi - lo - 1)

    stop_values = [r["stop_share"] for r in rows]
    prose_words = [c if p else 0 for c, p in zip(counts, prose)]
    pcum = [0]
    for c in prose_words:
        pcum.append(pcum[-1] + c)
    since, last = [], None
    for i in range(n):
        since.append(i - last if last is not None else n)
        if prose[i]:
            last = i
    until, nxt = [0] * n, None
    for i in range(n - 1, -1, -1):
        until[i] = nxt - i if nxt is not None else n
        if prose[i]:
            nxt = i
    short_run = [0] * n  # length of the run of non-prose lines a line sits in (menus, link lists)
    i = 0
    while i < n:
        j = i
        while j < n and not prose[j]:
            j += 1
        for k in range(i, j):
            short_run[k] = j - i
        i = max(j, i + 1)
    core_words = sum(prose_words[core_start:core_end]) or 1
    out = []
    for i, row in enumerate(rows):
        feats = dict(row)
        for off in WINDOW:
            j = i + off
            ok = 0 <= j < n
            feats[f"n{off:+d}_exists"] = float(ok)
            for name in _NEIGHBOUR:
                feats[f"n{off:+d}_{name}"] = rows[j][name] if ok else 0.0
        if core_start <= i < core_end:
            dist = 0.0
        else:
            dist = float(core_start - i if i < core_start else i - core_end + 1)
        feats.update({
            "rel_position": i / (n - 1) if n > 1 else 0.0,
            "words_before": cum[i] / total_words,
            "in_core": float(core_start <= i < core_end),
            "core_distance": math.log1p(dist),
            "para_near3": near(prose, i, 3),
            "para_near10": near(prose, i, 10),
            "stop_near3": near(stop_values, i, 3),
            "words_vs_max": counts[i] / max_words,
            "page_lines": math.log1p(n),
            "page_para_share": para_share,
            "prose_words_near5": math.log1p(pcum[min(n, i + 6)] - pcum[max(0, i - 5)] - prose_words[i]),
            "since_prose": math.log1p(since[i]),
            "until_prose": math.log1p(until[i]),
            "short_run": math.log1p(short_run[i]),
            "after_core": max(0, i - core_end + 1) / n,
            "before_core": max(0, core_start - i) / n,
            "core_share": core_words / total_words,
        })
        out.append([feats[name] for name in FEATURES])
    return out
