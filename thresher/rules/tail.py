"""What closes an article: agency sign-offs, end markers, a bare author name, trailing links,
an author box. These rules look at the last line only and run to a fixpoint as a group, so a
trailing run of such lines goes one by one, and prose is never reached from the middle.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from thresher.patterns import Patterns
from thresher.rules.engine import Cut, Line, RuleOutput, rule
from thresher.rules.predicates import ends_sentence, is_chrome, is_name_line, is_person, is_teaser_header
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


@rule("end_marker", version=2, group="tail")
def end_marker(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """End-of-article markers, on the last line only: a line such as "(END)", "-30-", "###",
    "■", or a marker glued to the last sentence ("... integration./." keeps "integration.").
    A "./." inside the article (a quoted path, a list of abbreviations) is text, not an end.
    """
    out = RuleOutput()
    if not lines:
        return out
    last = lines[-1]
    if last.text.casefold() in p.end_lines:
        out.drop(last)
        return out
    if last.text.endswith("./.") and len(last.text) > 3:
        out.cuts.append(Cut(last.idx, last.end - 2, last.end))
        return out
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


TOPIC_LINK_MAX_WORDS = 3
LINK_MAX_WORDS = 15
LABEL_MAX_WORDS = 5
LIST_INTRO_MIN_WORDS = 5
LINK_ROW_MIN_LINES = 3  # related headlines under no label: a row of three or more closes the page
_LIST_MARK = re.compile(r"^(?:[-–—•*·▪►✓]|\d{1,3}[.)]|[a-z][.)])\s")


def _link_shaped(text: str) -> bool:
    """A line a link could be: no sentence punctuation, at most 15 words, no list marker."""
    return word_count(text) <= LINK_MAX_WORDS and not ends_sentence(text) and not _LIST_MARK.match(text)


def _link_label(text: str, p: Patterns) -> bool:
    """What sites put over a row of links: "Tags:", "Temas relacionados:", "More on this"."""
    if word_count(text) > LABEL_MAX_WORDS:
        return False
    return text.rstrip().endswith(":") or is_teaser_header(text, p) or is_chrome(text, p)


def _closes_article(lines: Sequence[Line], p: Patterns) -> bool:
    """Whether the last of ``lines`` is an end marker, an agency sign-off or an author box:
    what follows it is not the article."""
    return any(fn(lines, p).cuts for fn in (end_marker, agency_signoff, author_bio))


@rule("tail_links", version=2, group="tail")
def tail_links(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """Links left after the article: the last line, when it has no sentence punctuation and
    either is a topic tag of one to three words ("Consommation", "Climate change") or sits in
    a row of links under a label ("Tags:", "Temas relacionados:", "More on this story") or
    after the article's end ("(END)", an agency sign-off, an author's e-mail), or a row of
    three or more such lines after the article's last sentence (related headlines printed
    without a header), which goes whole. Runs to a fixpoint with the other tail rules, so a
    trailing row of tags goes line by line.

    One or two lines of four words or more without a label are article text (a closing quote
    without a full stop, an instruction) and stay; so does a trailing run of short lines
    that the article introduces with a sentence ending in a colon ("Here are the winners:").
    """
    out = RuleOutput()
    if len(lines) < 2 or not _link_shaped(lines[-1].text):
        return out
    k = len(lines) - 1
    while k > 0 and _link_shaped(lines[k - 1].text):
        k -= 1
    intro = lines[k - 1].text if k > 0 else ""
    if intro.rstrip().endswith(":") and word_count(intro) >= LIST_INTRO_MIN_WORDS:
        return out  # the article's own list
    topic = word_count(lines[-1].text) <= TOPIC_LINK_MAX_WORDS
    # the run's other lines and the line over it: a label, or a line that closes the article
    labelled = any(_link_label(lines[j].text, p) or _closes_article(lines[: j + 1], p) for j in range(max(k - 1, 0), len(lines) - 1))
    if topic or labelled:
        out.drop(lines[-1])  # line by line: a sign-off under it is the other tail rules'
    elif k > 0 and len(lines) - k >= LINK_ROW_MIN_LINES:
        for line in lines[k:]:  # a row of unlabelled links after the article: all of it at once
            out.drop(line)
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
