"""Lines about the article rather than of it: bylines, credits, date lines, author lists.

They leave the text and become metadata (``authors``, ``credits``, ``source_agency``,
``published_at``), each removal logged like any other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from thresher.patterns import Patterns, phrase_key
from thresher.rules.engine import Line, RuleOutput, rule
from thresher.rules.predicates import clean_names, is_name_line, is_person, ends_sentence, is_paragraph
from thresher.text import word_count

@rule("byline")
def byline(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """Bylines: "By Jane Doe", "By Jane Doe and John Roe, Staff Writers", "Par Jean Dupont",
    "Von Anna Schmidt", "By Tom Fairley at Millbrook Park", "Priya Raman | Staff Writer".
    Removed from the text; the names become the record's ``authors``.

    Every word after the prefix must be a capitalised name (or a connector), so a sentence
    such as "By Tuesday, the river had risen." stays.
    """
    out = RuleOutput()
    authors: list[str] = []
    for line in lines:
        if word_count(line.text) > 16:
            continue
        m = p.byline.fullmatch(line.text.rstrip("."))
        if m:
            tail = m.group(2)
            if tail and ends_sentence(line.text) and not p.byline_roles.match(tail):
                continue
        else:
            m = p.byline_with_role.fullmatch(line.text)
            if not m or not p.byline_roles.search(m.group(2)):
                continue
        out.drop(line)
        authors.extend(clean_names(m.group(1), p))
    if authors:
        out.meta["authors"] = authors
    return out


_DATE_TOKEN = re.compile(r"[\d:.,/\-+h]*\d[\d:.,/\-+h]*(?:st|nd|rd|th|h|am|pm)?|[|,.\-–—/()•·]+")


_DATE_SHAPE = re.compile(
    r"\d{1,4}[./\-]\d{1,2}[./\-]\d{2,4}|\d{1,2}[:h]\d{2}|\b\d{4}\b|\d{1,2}[.:]\d{2}\s*[ap]\.?m",
    re.IGNORECASE,
)


def date_line_value(text: str, p: Patterns) -> str | None:
    """If ``text`` is only a date/time (with an optional "Published"/"Updated" label), return
    the date part; else None. Needs a digit and a month name or a date/time shape."""
    if word_count(text) > 20 or not any(c.isdigit() for c in text):
        return None
    body = p.date_label.sub("", text, count=1) if p.date_label.match(text) else text
    tokens = re.findall(r"[^\s]+", body)
    has_month = False
    for tok in tokens:
        t = tok.casefold().strip(",.()|")
        if not t or _DATE_TOKEN.fullmatch(t):
            continue
        if t in p.date_words or t in p.date_label_words:
            has_month = has_month or t in p.date_months
            continue
        if "+" in t and t.split("+")[0] in p.date_words:
            continue
        return None
    if has_month or _DATE_SHAPE.search(body) or p.date_relative.search(body):
        return body.strip(" |,")
    return None


@rule("date_line")
def date_line(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """Lines that are only a date or time ("Published March 3, 2025 10:42 a.m. ET",
    "Veröffentlicht am 03.03.2025, 18:00 Uhr", "5 hours ago"). The first absolute one is kept
    as ``published_at_text``, which the extractor parses into ``published_at``; a relative
    one ("5 hours ago") means nothing once archived and gives no timestamp.

    Every word must be a date word, a number or a label, so a sentence that contains a date
    ("On March 3, 2025, the court ruled.") stays.
    """
    out = RuleOutput()
    for line in lines:
        value = date_line_value(line.text, p)
        if value is None:
            continue
        out.drop(line)
        if not p.date_relative.search(value):
            out.meta.setdefault("published_at_text", value)
    return out


@rule("credits")
def credits(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """Credit and source lines: "Story: Khanh Long Photos: Cong Dat & VNA Translated by Nguyen
    Tuoi", "Reporting by X; Editing by Y", "Source: VNA", "Jane Doe contributed to this
    report." Removed from the text, kept as ``credits``; author labels give ``authors`` and
    "Source:" gives ``source_agency``.

    A credit line starts with a credit label followed by a capitalised name and is short, so a
    sentence that begins "Photos of the flood spread quickly." stays.
    """
    out = RuleOutput()
    for line in lines:
        text = line.text
        if word_count(text) > 30:
            continue
        src = p.source_line.fullmatch(text)
        if src and word_count(src.group(1)) <= 6 and not ends_sentence(src.group(1).rstrip(".")):
            out.drop(line)
            out.meta.setdefault("source_agency", src.group(1).strip())
            out.meta.setdefault("credits", []).append(text)
            continue
        if p.contributor.fullmatch(text):
            out.drop(line)
            out.meta.setdefault("credits", []).append(text)
            continue
        m = p.credit_line.match(text)
        if not m:
            continue
        label = phrase_key(m.group(0))
        value = text[m.end() :].strip()
        if not value or not (value[0].isupper() or value[0].isdigit()):
            continue
        labelled = len(p.credit_line.findall(text))
        if labelled < 2 and (ends_sentence(value) and word_count(value) > 8):
            continue
        if label in {"by", "photo", "photos"} and labelled < 2:
            continue  # a lone "By X" is a byline, a lone "Photo: X" a caption: their own rules
        out.drop(line)
        out.meta.setdefault("credits", []).append(text)
        for seg_label, seg_value in credit_segments(text, p):
            if seg_label in p.credit_author_labels:
                out.meta.setdefault("authors", []).extend(clean_names(seg_value, p))
    return out


def credit_segments(text: str, p: Patterns) -> list[tuple[str, str]]:
    """Split a credit line into (label, value) pairs:
    "Story: A B Photos: C Translated by D" -> [("story", "A B"), ("photos", "C"), ...]."""
    marks = [m for m in p.credit_line.finditer(text) if m.start() == 0 or text[m.start() - 1] in " ;,|"]
    pairs = []
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        pairs.append((phrase_key(m.group(0)), text[m.end() : end].strip(" ;,|.")))
    return pairs


@rule("byline_block")
def byline_block(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """Bare author and desk lines at the top of the article ("Jack Morrison", "AAP",
    "Isles News Wales", "Lim Jia Hui, Aqilah Rahman and Nicholas Yeo", "Transport
    correspondent"): short lines of capitalised words, lists of names, or a role, before the
    second prose paragraph.
    Person names become ``authors``, an agency name ``source_agency``.

    Runs after the headline has been taken, and only in the head of the article, so an
    in-body subheading (which sits between paragraphs and is rarely all capitalised) stays.
    """
    out = RuleOutput()
    seen = 0
    for line in lines:
        if is_paragraph(line.text):
            seen += 1
            if seen >= 2:
                break
            continue
        if is_name_line(line.text):
            out.drop(line)
            if line.text.casefold() in p.agencies:
                out.meta.setdefault("source_agency", line.text)
            elif is_person(line.text, p):
                out.meta.setdefault("authors", []).append(line.text)
        elif p.names_list.fullmatch(line.text):
            out.drop(line)
            out.meta.setdefault("authors", []).extend(clean_names(line.text, p))
        elif word_count(line.text) <= 4 and p.byline_roles.fullmatch(re.sub(r"^[\w-]+\s+(?=\w)", "", line.text)):
            out.drop(line)  # "Transport correspondent", "Senior reporter" under a bare name
    return out
