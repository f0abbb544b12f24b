"""Site chrome: navigation, buttons, breadcrumbs, comment sections, footers, repeated lines.

Whole lines that *are* a known phrase or have the shape of a menu; prose that mentions the same
words is longer than the phrase, or ends like a sentence, and stays.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from thresher.patterns import Patterns, phrase_key
from thresher.rules.engine import Line, RuleOutput, rule
from thresher.rules.predicates import ends_sentence, is_chrome, is_teaser_header
from thresher.text import word_count

@rule("site_chrome", version=2)
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


# How far after a comment header the first comment-shaped item must appear: a user name, a
# time stamp and an action row come within the first few lines of every comment.
COMMENT_LOOKAHEAD = 4
COMMENT_HEADER_MAX_WORDS = 8
_HANDLE = re.compile(r"@?[\w.-]*(?:_|\d)[\w.-]*|@[\w.-]+", re.UNICODE)
_ACTION_SPLIT = re.compile(r"\s*[·•|/]\s*")
_INITIAL = re.compile(r"[A-ZÀ-Ý]\.")


def _is_comment_header(text: str, p: Patterns) -> bool:
    return phrase_key(text) in p.comment_headers or bool(p.comment_regex.fullmatch(text))


def _heading_like(text: str, p: Patterns) -> bool:
    """A comment header as sites print it ("Comments", "24 comments", "Leave a reply", "Log in
    to comment"): a listed phrase, or a short line that is not a sentence. "The mayor's office
    declined to comment." matches the header pattern but is a sentence."""
    if phrase_key(text) in p.comment_headers:
        return True
    return word_count(text) <= COMMENT_HEADER_MAX_WORDS and not text.rstrip("\"'”’»)").endswith((".", "!"))


def _is_handle(token: str) -> bool:
    """A user handle: one token with letters and an underscore or digits ("joaocarlos_df",
    "Hanne_W.", "nok2024"), or an @name."""
    token = token.rstrip(".")
    return bool(_HANDLE.fullmatch(token)) and any(c.isalpha() for c in token)


def _is_user_name(text: str) -> bool:
    """A commenter's name as a line: a handle, or one to three capitalised words ending
    maybe with an initial ("Ramesh K.", "Musa Abdullahi")."""
    words = text.split()
    if len(text) > 30 or not 1 <= len(words) <= 3:
        return False
    if len(words) == 1 and _is_handle(words[0]):
        return True
    body = text[: -1] if _INITIAL.fullmatch(words[-1]) else text
    return all(w[:1].isupper() for w in words) and not ends_sentence(body)


def _is_comment_stamp(text: str, p: Patterns) -> bool:
    """A time stamp, a "<name> says:" line or a row of action buttons ("Like · Reply · 3h")."""
    if word_count(text) > 12:
        return False
    if p.comment_markers.search(text):
        return True
    parts = [part for part in _ACTION_SPLIT.split(text) if part]
    return bool(parts) and all(phrase_key(part) in p.comment_actions or part.isdigit() for part in parts)


def _comment_item(text: str, p: Patterns, strong_only: bool) -> bool:
    """A line that belongs to a comment section's items (or to the chrome that closes a page);
    ``strong_only`` leaves out bare capitalised names, which a subheading also looks like."""
    if _is_comment_stamp(text, p) or _is_comment_header(text, p) or is_teaser_header(text, p) or is_chrome(text, p):
        return True
    if word_count(text) <= 25 and p.footer.fullmatch(text):
        return True
    single = len(text.split()) == 1 and _is_handle(text)
    return single or (not strong_only and _is_user_name(text))


@rule("comments", version=2)
def comments(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """The reader-comment section: a header ("Comments", "24 comments", "Leave a reply", "Log
    in to comment") followed by comment-shaped items within a few lines: commenters' names
    and handles, time stamps ("2 hours ago"), action rows ("Like · Reply"), counts, or the
    page's closing chrome. When most of the page's text is before it, the header and
    everything after it go.

    The structure decides, not the phrase: a header-like line followed by article prose is a
    stray button or a counter, and only that line goes; a sentence that matches a header
    pattern ("The mayor's office declined to comment.") is never taken for a bare header, and
    opens a section only when comment items follow it.
    """
    out = RuleOutput()
    total = sum(len(line.text) for line in lines)
    before = 0
    for k, line in enumerate(lines):
        before += len(line.text)
        if not _is_comment_header(line.text, p):
            continue
        heading = _heading_like(line.text, p)
        after = lines[k + 1 : k + 1 + COMMENT_LOOKAHEAD]
        section = any(_comment_item(a.text, p, strong_only=not heading) for a in after)
        # The second half by characters, not lines: a page's tail of menus is many short lines.
        if section and 2 * before >= total:
            for rest in lines[k:]:
                out.drop(rest)
            break
        if heading:
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
