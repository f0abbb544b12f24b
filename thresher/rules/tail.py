"""What closes an article: agency sign-offs, end markers, a bare author name, trailing links,
an author box. These rules look at the last line only and run to a fixpoint as a group, so a
trailing run of such lines goes one by one, and prose is never reached from the middle.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from thresher.patterns import Patterns
from thresher.rules.engine import Cut, Line, RuleOutput, rule
from thresher.rules.predicates import is_name_line, is_person, ends_sentence
from thresher.text import word_count

@rule("agency_signoff", group="tail")
def agency_signoff(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """A lone news-agency name closing the article ("VNA", "AFP", "(Reuters)", "VNA/VNP",
    "dpa/lni", "Theo TTXVN"): removed and kept as ``source_agency``; the editors' initials that agencies print after it
    ("jgb/ram") go too. Only the last line, and only a known agency name or
    a short run of capitals, so a one-word last paragraph of prose is not mistaken for one.
    """
    out = RuleOutput()
    if not lines:
        return out
    last = lines[-1]
    text = re.sub(r"^(?i:theo|via|according to|nguồn|quelle|fuente|fonte|sumber|source)\s*:?\s+", "", last.text.strip(" ()[]–—-."))
    text = text.strip(" ()[]–—-.")
    parts = [t for t in re.split(r"\s*[/,&]\s*", text) if t]
    agency_first = bool(parts) and parts[0].casefold() in p.agencies
    if parts and word_count(text) <= 4 and all(
        t.casefold() in p.agencies or re.fullmatch(r"[A-ZĐ]{2,6}\+?", t) or (agency_first and re.fullmatch(r"[a-z]{2,4}", t))
        for t in parts
    ):
        out.drop(last)
        out.meta["source_agency"] = text
    elif len(lines) >= 2 and re.fullmatch(r"[a-z]{2,4}(/[a-z]{2,4})+", text):
        out.drop(last)  # editors' initials after an agency sign-off: "EFE" then "jgb/ram"
    return out


@rule("end_marker", group="tail")
def end_marker(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """End-of-article markers: a last line such as "(END)", "-30-", "###", "■", and markers
    glued to the last sentence ("... integration./." keeps "integration."). Also "./." at the
    end of any line, which only ever marks an article end.
    """
    out = RuleOutput()
    if not lines:
        return out
    last = lines[-1]
    if last.text.casefold() in p.end_lines:
        out.drop(last)
        return out
    for line in lines:
        if line.text.endswith("./.") and len(line.text) > 3:
            out.cuts.append(Cut(line.idx, line.end - 2, line.end))
    if not last.text.endswith("./."):
        for suffix in p.end_suffixes:
            if last.text.endswith(suffix) and len(last.text) > len(suffix):
                cut_from = last.end - len(suffix)
                while cut_from > last.start and last.text[cut_from - last.start - 1] == " ":
                    cut_from -= 1
                out.cuts.append(Cut(last.idx, cut_from, last.end))
                break
    return out


@rule("signoff_name", group="tail")
def signoff_name(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """A bare author name closing the article ("Marie Lefèvre", "Thu Hằng (TTXVN)"): two to
    four capitalised words with no punctuation as the last line, maybe with an agency in
    brackets. Becomes an author (and the agency ``source_agency``).
    """
    out = RuleOutput()
    if len(lines) < 2:
        return out
    m = re.fullmatch(r"(.+?)\s*\(([^()]{2,30})\)", lines[-1].text)
    name, agency = (m.group(1), m.group(2)) if m and m.group(2).casefold() in p.agencies else (lines[-1].text, None)
    if is_name_line(name) and is_person(name, p):
        out.drop(lines[-1])
        out.meta["authors"] = [name]
        if agency:
            out.meta["source_agency"] = agency
    return out


@rule("tail_links", group="tail")
def tail_links(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """Links left after the article: topic tags ("Consommation"), related headlines with no
    header ("Budget 2025: What businesses need to know"), "Support local journalism". The last
    line goes when it has no sentence punctuation and at most 15 words: an article's closing
    line is a sentence, and a subheading is never last. Runs to a fixpoint with the other tail
    rules, so a whole trailing list goes line by line.
    """
    out = RuleOutput()
    if len(lines) >= 2 and word_count(lines[-1].text) <= 15 and not ends_sentence(lines[-1].text):
        out.drop(lines[-1])
    return out


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@rule("author_bio", group="tail")
def author_bio(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """An author box closing the article: "Maria Castillo covers City Hall for the Ledger.
    Reach her at mcastillo@…". Only the last line, and only when it gives an e-mail address
    or says what the author covers, writes or is ("… is a reporter for …").
    """
    out = RuleOutput()
    if len(lines) < 2:
        return out
    text = lines[-1].text
    if word_count(text) <= 60 and (_EMAIL.search(text) or p.author_bio.match(text)):
        out.drop(lines[-1])
    return out
