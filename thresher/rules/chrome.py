"""Site chrome: navigation, buttons, breadcrumbs, comment sections, footers, repeated lines.

Whole lines that *are* a known phrase or have the shape of a menu; prose that mentions the same
words is longer than the phrase, or ends like a sentence, and stays.
"""

from __future__ import annotations

from collections.abc import Sequence

from thresher.patterns import Patterns, phrase_key
from thresher.rules.engine import Line, RuleOutput, rule
from thresher.rules.predicates import ends_sentence, is_chrome
from thresher.text import word_count

@rule("site_chrome")
def site_chrome(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """Whole lines of site chrome: navigation and account buttons ("Log in"), share bars
    ("Share:", "Facebook"), "Reactions:", ad markers, paywall and newsletter prompts, cookie
    banners, counters ("24 comments"), tag lists.

    Safe because only a line that *is* one of these phrases (or matches an anchored pattern)
    goes: a sentence that mentions "log in" or "share" is longer than the phrase and stays.
    """
    out = RuleOutput()
    for line in lines:
        if is_chrome(line.text, p):
            out.drop(line)
    return out


@rule("breadcrumb")
def breadcrumb(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """Breadcrumb trails and link rows: "Home > World > Asia", "Terms of Use | Privacy Policy".

    Needs three parts of a few words each with no sentence punctuation, or two parts that are
    both chrome phrases, so "Inflation rose 3% / 4% in two months." or a ratio in prose stays.
    """
    out = RuleOutput()
    for line in lines:
        if line.text.startswith("|") and line.text.endswith("|"):
            continue  # a table row, as extractors render tables
        parts = p.breadcrumb_split.split(line.text)
        if len(parts) < 2 or ends_sentence(line.text):
            continue
        if len(parts) >= 3 and all(0 < word_count(part) <= p.breadcrumb_max_words and not ends_sentence(part) for part in parts):
            out.drop(line)
        elif all(is_chrome(part, p) for part in parts):
            out.drop(line)
    return out


@rule("comments")
def comments(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """The reader-comment section: a header such as "Comments", "Leave a reply",
    "24 comments" and, when it sits in the second half of the page, everything after it.

    Earlier in the page such a line is a counter next to the byline: only that line goes.
    """
    out = RuleOutput()
    for k, line in enumerate(lines):
        if phrase_key(line.text) in p.comment_headers or p.comment_regex.fullmatch(line.text):
            if k >= len(lines) / 2:
                for rest in lines[k:]:
                    out.drop(rest)
                break
            out.drop(line)
    return out


@rule("footer")
def footer(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """The site footer: a copyright line ("© 2025 Example Media", "All rights reserved") and,
    when no prose paragraph follows it, everything after it (terms, privacy, contact links).
    """
    out = RuleOutput()
    for k, line in enumerate(lines):
        if word_count(line.text) <= 25 and p.footer.fullmatch(line.text):
            rest = lines[k + 1 :]
            if any(word_count(r.text) >= 30 for r in rest):
                out.drop(line)
                continue
            for r in lines[k:]:
                out.drop(r)
            break
    return out


@rule("repeated_line")
def repeated_line(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """A line identical to the line before it (blank lines between ignored): flattened pages
    repeat headlines and captions (alt text, then the visible caption).

    Only lines of four words or more: a repeated short exclamation in a quote stays.
    """
    out = RuleOutput()
    for prev, line in zip(lines, lines[1:]):
        if line.text == prev.text and word_count(line.text) >= 4:
            out.drop(line)
    return out
