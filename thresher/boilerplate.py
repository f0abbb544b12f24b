"""Text-level boilerplate rules: the chaff a flattened news page carries around its article.

This stage sits between decoding/extraction and dedup. It sees a page as normalised lines (one
block element per line, as scrapers flatten pages) and applies named rules in a fixed order.
A rule never deletes text directly: it returns *cuts* (a whole line, or a span at the edge of a
line), and the engine logs every cut as a :class:`Removal` under the rule's name and version.
That log is what lets an auditor trust the cleaner: the kept text plus the removals account
for every non-blank line of the input.

Rules are small functions in :data:`REGISTRY`, each with a docstring that says what chaff it
targets and why it is safe on article text. What they look for (phrases in many languages)
lives in ``data/patterns.toml``; the structure (where in the page, what follows what) lives
here. When a rule's behaviour changes, bump its version: it goes into provenance.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from thresher.normalize import normalize_lines
from thresher.patterns import Patterns, load_patterns, phrase_key


@dataclass(frozen=True)
class Line:
    """A kept line as a rule sees it: its number, its text, and where that text sits in the
    original normalised line (rules that trim a suffix shrink ``[start, end)``)."""

    idx: int
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Cut:
    """A rule's request to remove ``[start, end)`` of line ``idx`` (line-local offsets)."""

    idx: int
    start: int
    end: int


@dataclass(frozen=True)
class Removal:
    """A removed span, logged under the rule that removed it (``rule`` is ``name@version``).

    ``start``/``end`` are offsets in the normalised input (lines joined by ``\\n``), so the
    span can be shown in context and re-checked against the raw snapshot.
    """

    rule: str
    line: int
    start: int
    end: int
    text: str


@dataclass
class RuleOutput:
    """What a rule returns: cuts, and metadata it moved out of the text (title, authors…)."""

    cuts: list[Cut] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def drop(self, line: Line) -> None:
        self.cuts.append(Cut(line.idx, line.start, line.end))


RuleFn = Callable[[Sequence[Line], Patterns], RuleOutput]


@dataclass(frozen=True)
class Rule:
    """A registered rule. ``group`` rules that sit next to each other run to a fixpoint."""

    name: str
    version: int
    fn: RuleFn
    group: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()


REGISTRY: dict[str, Rule] = {}


def rule(name: str, version: int = 1, group: str | None = None) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under ``name``; its docstring is its documentation."""

    def register(fn: RuleFn) -> RuleFn:
        if name in REGISTRY:
            raise ValueError(f"rule {name!r} registered twice")
        REGISTRY[name] = Rule(name, version, fn, group)
        return fn

    return register


# --------------------------------------------------------------------------- shared tests

_SENTENCE_END = re.compile(r"[.!?…:;。！？][\"'“”‘’«»‹›)\]」』）]*$")
# Chinese and Japanese write without spaces: two such characters count as about one word, so
# a Japanese paragraph is not mistaken for a one-word menu item.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def word_count(text: str) -> int:
    """Words in ``text``: whitespace-separated tokens, plus half the CJK characters."""
    n = len(text.split())
    cjk = len(_CJK.findall(text))
    return n + cjk // 2 if cjk else n


def ends_sentence(text: str) -> bool:
    return bool(_SENTENCE_END.search(text))


def is_upper_banner(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


def is_title_like(text: str) -> bool:
    """A headline-shaped line: a few words, no closing full stop (a question mark is allowed)."""
    n = word_count(text)
    if not 2 <= n <= 25 or text.endswith(":"):
        return False
    return not ends_sentence(text) or (text.rstrip("\"'”’»") .endswith("?") and n <= 18)


def is_paragraph(text: str) -> bool:
    """A body-shaped line: a sentence that ends like one and is long enough to be prose."""
    n = word_count(text)
    return (ends_sentence(text) and n >= 8) or n >= 30


# Teaser parsing asks the same questions of a line many times, and sites repeat the same
# chrome on every page: the line predicates are pure, so they are memoised. Bounded: prose
# lines are long and rarely repeat, and an unbounded memo grows with the corpus.
PREDICATE_MEMO = 4096


@lru_cache(maxsize=PREDICATE_MEMO)
def is_chrome(text: str, p: Patterns) -> bool:
    if phrase_key(text) in p.chrome_lines:
        return True
    # Chrome is short; only a consent notice runs long. Prose skips the costly patterns.
    if word_count(text) > CHROME_MAX_WORDS and "cookie" not in text.casefold():
        return False
    return bool(p.chrome_regex.fullmatch(text))


CHROME_MAX_WORDS = 60
CREDIT_TAIL = 120  # label, separator and an 80-character credit fit in the line's last 120


@lru_cache(maxsize=PREDICATE_MEMO)
def is_caption(text: str, p: Patterns) -> bool:
    """Photo captions and credits: '(Photo: VNA)', 'Photo: AFP', '... REUTERS/Jane Doe'."""
    if word_count(text) > 80 or not p.caption_trigger.search(text):
        return False
    if p.caption_prefix.match(text) or p.caption_credit.match(text):
        return True
    m = p.caption_label_end.search(text[-CREDIT_TAIL:])  # a credit closes the line
    if not m:
        return False
    # A credit names someone: "(Photo: VNA)", "Foto: dpa", "Picture: Getty Images". Prose such
    # as "The photo: it went viral" has a lower-case label outside brackets and no name after it.
    value, label = m.group("value").strip(), m.group("label")
    named = value[:1].isupper() or value[:1].isdigit() or value.split("/")[0].casefold() in p.agencies
    return word_count(value) <= 8 and named and bool(m.group("open") or label[:1].isupper())


@lru_cache(maxsize=PREDICATE_MEMO)
def is_image_residue(text: str, p: Patterns) -> bool:
    return phrase_key(text) in p.image_residue or bool(p.image_file.fullmatch(text))


@lru_cache(maxsize=PREDICATE_MEMO)
def is_teaser_header(text: str, p: Patterns) -> bool:
    key = phrase_key(text)
    return key in p.teaser_headers or (key.startswith("more from ") and word_count(key) <= 5)


BYLINE_PREFIXES = ("by", "written by", "par", "von", "por", "oleh", "door", "di", "от", "bởi", "author", "autor")
_ORG_WORDS = {"news", "desk", "staff", "team", "bureau", "media", "press", "times", "post", "daily", "online", "digital",
              "agency", "reporter", "correspondent", "editor", "editors", "redaktion", "rédaction", "redacción",
              "report", "reports", "wire", "wires", "service", "services"}


def clear_caches() -> None:
    """Forget memoised line predicates (benchmarks use it so a second pass is not pre-warmed)."""
    for fn in (is_chrome, is_caption, is_image_residue, is_teaser_header):
        fn.cache_clear()


# --------------------------------------------------------------------------- rules


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


@rule("teaser_link")
def teaser_link(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """A single link to another story: "READ MORE: Storm closes schools", "Baca juga: ...".

    The prefix must be followed by a colon or a dash and the rest must be headline-shaped
    (no closing full stop), so "Read more about the plan in the report." stays.
    """
    out = RuleOutput()
    for line in lines:
        if p.inline_teaser.fullmatch(line.text) and word_count(line.text) <= 30:
            rest = re.split(r"[:–—»›>|]|\s-\s", line.text, maxsplit=1)[-1].strip()
            if rest and (is_title_like(rest) or not ends_sentence(rest)):
                out.drop(line)
    return out


# Teaser summaries are excerpts cut to fit a card: one or two sentences, at most ~60 words in
# the pages we measured (seeds: 55). The last item of a list, which may be the article
# resuming, must be shorter still to count as a summary.
TEASER_SUMMARY_MAX_WORDS = 60
TEASER_SUMMARY_WORDS = 40


def is_link_like(text: str) -> bool:
    """A teaser link: headline-shaped, or a short label such as a topic name ("Housing")."""
    return is_title_like(text) or (word_count(text) <= 3 and not ends_sentence(text))


def _teaser_item(lines: Sequence[Line], i: int, p: Patterns) -> tuple[int, bool]:
    """Length of the teaser item at ``lines[i]`` (captions, a title, its copy, a summary) and
    whether its last line is a summary paragraph; ``(0, False)`` when there is no item.

    An item is accepted only if what follows it looks like another item or the end, so an
    article that resumes after a "Read more" line is not swallowed.
    """
    n = len(lines)
    j = i
    while j < n and (is_caption(lines[j].text, p) or is_image_residue(lines[j].text, p)):
        j += 1
    if j >= n or not is_link_like(lines[j].text):
        return (j - i if j > i and j >= n else 0), False
    title = lines[j].text
    j += 1
    while j < n and (lines[j].text == title or is_caption(lines[j].text, p) or is_image_residue(lines[j].text, p)):
        j += 1

    def item_boundary(k: int) -> bool:
        if k >= n:
            return True
        t = lines[k].text
        return is_link_like(t) or is_caption(t, p) or is_teaser_header(t, p) or is_image_residue(t, p) or is_chrome(t, p)

    if item_boundary(j):
        return j - i, False
    if word_count(lines[j].text) <= TEASER_SUMMARY_MAX_WORDS and item_boundary(j + 1):
        return j + 1 - i, True
    return 0, False


@rule("teaser_block")
def teaser_block(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """Teaser blocks: a header such as "Related news", "See more", "You may also like",
    "Lire aussi" and the teaser items under it (title, the title again, a caption, a short
    summary), as flattened pages show them.

    The header must be a whole line; items are taken only while they keep the teaser shape,
    so an article quoting "see more" keeps the sentence, and prose after a stray header stays.
    The first headline-shaped line right after a header is the link it introduces.
    """
    out = RuleOutput()
    i = 0
    while i < len(lines):
        if not is_teaser_header(lines[i].text, p):
            i += 1
            continue
        out.drop(lines[i])
        j = i + 1
        if j < len(lines) and is_title_like(lines[j].text) and not is_teaser_header(lines[j].text, p):
            if _teaser_item(lines, j, p)[0] == 0:
                link = lines[j].text
                while j < len(lines) and lines[j].text == link:
                    out.drop(lines[j])
                    j += 1
        items = 0
        while j < len(lines):
            if is_teaser_header(lines[j].text, p) or is_chrome(lines[j].text, p):
                out.drop(lines[j])
                j += 1
                continue
            size, summary = _teaser_item(lines, j, p)
            if not size:
                break
            items += 1
            end = j + size
            if summary and end < len(lines) and not _teaser_item(lines, end, p)[0]:
                # The last item before prose: its "summary" is a teaser's only in a list of
                # several short items; otherwise it is the article resuming after a link.
                if items < 2 or word_count(lines[end - 1].text) > TEASER_SUMMARY_WORDS:
                    end -= 1
            for line in lines[j:end]:
                out.drop(line)
            kept_summary = end < j + size
            j = end
            if kept_summary:
                break
        i = j
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


@rule("caption")
def caption(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """Image captions: lines ending in a photo credit ("... (Photo: VNA)", "Photo: UN Photo/X",
    "REUTERS/Jane Doe"), BBC-style "Image caption,"/"Image source," lines, and the line right
    after an image residue (a file name or a flattened editor toolbar) when it is caption-sized
    or names positions in the picture ("(center)", "(second from left)"), unless the image
    already had its caption on the line above.

    A sentence that talks about a photo ("He shared a photo of the flood.") has no credit
    label followed by a name at its end, so it stays.
    """
    out = RuleOutput()
    for k, line in enumerate(lines):
        text = line.text
        if is_caption(text, p):
            out.drop(line)
        elif k > 0 and is_image_residue(lines[k - 1].text, p) and word_count(text) <= 45 and not is_image_residue(text, p):
            captioned_before = k > 1 and is_caption(lines[k - 2].text, p)
            if not captioned_before and (". " not in text or p.caption_position.search(text)):
                out.drop(line)
    return out


@rule("image_residue")
def image_residue(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """What an image leaves in flattened text: a bare file name ("unodc.jpg"), editor toolbar
    words run together ("leftcenterrightdel"), "Enlarge this image", "Toggle caption".
    """
    out = RuleOutput()
    for line in lines:
        if is_image_residue(line.text, p):
            out.drop(line)
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


def _clean_names(raw: str, p: Patterns) -> list[str]:
    """Person names from a byline's name part; desk and agency words are not people."""
    raw = p.byline_roles.sub("", raw).strip(" ,|/–—-")
    names = [n.strip(" .") for n in p.byline_split.split(raw) if n.strip(" .")]
    return [n for n in names if not _ORG_WORDS & {w.casefold() for w in n.split()} and n.casefold() not in p.agencies]


def person_names(names: list[str]) -> list[str]:
    """The names that are people: "Staff report", "Reuters", "News Desk" are not."""
    p = load_patterns()
    return [n for n in names if not _ORG_WORDS & {w.casefold() for w in n.split()} and n.casefold() not in p.agencies]


def byline_names(text: str, p: Patterns | None = None) -> list[str]:
    """Person names in a byline as a page shows it: "By Jane Doe and John Roe, Staff Writers"."""
    p = p or load_patterns()
    text = " ".join(text.split())
    text = re.split(r"\s[|·•—–]\s?|\s\d|\s(?i:posted|updated|published)\b", text)[0]  # "Dan Whitfield | Courier", "Dev Malhotra · Aug. 8"
    text = re.sub(r"^(?i:(?:\w+\s+)?by|%s):?\s+" % "|".join(map(re.escape, BYLINE_PREFIXES)), "", text)
    names = _clean_names(text, p)
    return [n for n in names if 1 <= len(n.split()) <= 5 and n[:1].isupper()]


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
        authors.extend(_clean_names(m.group(1), p))
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
                out.meta.setdefault("authors", []).extend(_clean_names(seg_value, p))
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


def _starts_body(lines: Sequence[Line], k: int) -> bool:
    """Line k is prose and prose follows within the next few lines: where the article starts.
    A lone paragraph among buttons and menus (a cookie notice, a promo) does not start it."""
    if not is_paragraph(lines[k].text):
        return False
    ahead = lines[k + 1 : k + 1 + BODY_LOOKAHEAD]
    return not ahead or any(is_paragraph(line.text) for line in ahead)


BODY_LOOKAHEAD = 8  # a standfirst may sit above a highlights box; a cookie notice sits among buttons
STANDFIRST_WORDS = 18  # headlines run 6-15 words; a headline-shaped line longer than this is a deck
HEADLINE_MIN_WORDS = 5  # menu items and buttons ("Deel dit artikel") run 1-4: preferred only when nothing longer


def find_headline(lines: Sequence[Line]) -> int | None:
    """Index (into ``lines``) of the page's headline, or None when the page starts with body.

    The headline is the last headline-shaped line (three words or more) before the first prose
    paragraph: menus and section names sit above it. When that last line is long (a standfirst
    without a full stop, as UK sites print them) and the one before it is headline-sized, the
    one before it is the headline. Capitals-only lines (banners, kickers) are taken only when
    nothing else qualifies.
    """
    first_body = next((k for k in range(len(lines)) if _starts_body(lines, k)), len(lines))
    candidates = [k for k in range(first_body) if is_title_like(lines[k].text) and word_count(lines[k].text) >= 3]
    if not candidates:
        return None
    normal = [k for k in candidates if not is_upper_banner(lines[k].text) and not _name_line(lines[k].text)] or candidates
    normal = [k for k in normal if word_count(lines[k].text) >= HEADLINE_MIN_WORDS] or normal
    last = normal[-1]
    if len(normal) >= 2 and word_count(lines[last].text) > STANDFIRST_WORDS:
        before = normal[-2]
        if 4 <= word_count(lines[before].text) <= STANDFIRST_WORDS and before == last - 1:
            return before
    return last


@rule("leading_chrome")
def leading_chrome(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """Everything above the headline: site banners, section names, menus that the phrase
    tables did not know. Fires only when a headline is found before the first paragraph, so
    a dump that starts with body text loses nothing.
    """
    out = RuleOutput()
    head = find_headline(lines)
    for line in lines[: head or 0]:
        out.drop(line)
    return out


@rule("headline")
def headline(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """The headline moves out of the text into ``title`` (logged here, so nothing vanishes).
    A page that starts with body text has no headline, and its title stays null.
    """
    out = RuleOutput()
    head = find_headline(lines)
    if head is not None:
        out.drop(lines[head])
        out.meta["title"] = lines[head].text
    return out



def _name_line(text: str) -> bool:
    """A short line of capitalised words with no sentence punctuation: "Jack Morrison", "AAP"."""
    words = text.split()
    return 1 <= len(words) <= 4 and not ends_sentence(text) and all(w[0].isupper() or w in {"&", "-", "|"} for w in words)


def _person(text: str, p: Patterns) -> bool:
    words = text.split()
    return 2 <= len(words) <= 3 and text.casefold() not in p.agencies and not _ORG_WORDS & {w.casefold() for w in words}


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
        if _name_line(line.text):
            out.drop(line)
            if line.text.casefold() in p.agencies:
                out.meta.setdefault("source_agency", line.text)
            elif _person(line.text, p):
                out.meta.setdefault("authors", []).append(line.text)
        elif p.names_list.fullmatch(line.text):
            out.drop(line)
            out.meta.setdefault("authors", []).extend(_clean_names(line.text, p))
        elif word_count(line.text) <= 4 and p.byline_roles.fullmatch(re.sub(r"^[\w-]+\s+(?=\w)", "", line.text)):
            out.drop(line)  # "Transport correspondent", "Senior reporter" under a bare name
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
    if _name_line(name) and _person(name, p):
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


DEFAULT_RULES: tuple[str, ...] = (
    "site_chrome",
    "breadcrumb",
    "comments",
    "footer",
    "teaser_link",
    "teaser_block",
    "credits",
    "caption",
    "image_residue",
    "repeated_line",
    "byline",
    "date_line",
    "end_marker",
    "agency_signoff",
    "signoff_name",
    "tail_links",
    "author_bio",
    "leading_chrome",
    "headline",
    "byline_block",
)

# --------------------------------------------------------------------------- engine


@dataclass(frozen=True)
class Cleaned:
    """The outcome of the rules on one page: kept paragraphs, every removal, moved metadata."""

    paragraphs: tuple[str, ...]
    removals: tuple[Removal, ...]
    meta: dict
    kept: tuple[Line, ...] = ()  # where each paragraph sits in the normalised input

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


_LIST_META = ("authors", "credits")


def _merge_meta(into: dict, new: dict) -> None:
    for key, value in new.items():
        if key in _LIST_META:
            seen = into.setdefault(key, [])
            seen.extend(v for v in value if v not in seen)
        else:
            into.setdefault(key, value)


def _groups(rules: Sequence[Rule]) -> Iterable[list[Rule]]:
    run: list[Rule] = []
    for r in rules:
        if run and (r.group is None or r.group != run[-1].group):
            yield run
            run = []
        run.append(r)
    if run:
        yield run


def strip_boilerplate(text: str, rules: Sequence[str] = DEFAULT_RULES, patterns: Patterns | None = None) -> Cleaned:
    """Apply ``rules`` in order to ``text``; return the kept paragraphs and the removal log.

    Pure: the same text and rules always give the same result. Offsets in the log refer to
    the normalised input (``normalize_lines`` joined by newlines).
    """
    p = patterns or load_patterns()
    raw_lines = normalize_lines(text)
    offsets = []
    pos = 0
    for ln in raw_lines:
        offsets.append(pos)
        pos += len(ln) + 1
    window = {i: (0, len(ln)) for i, ln in enumerate(raw_lines) if ln}
    removals: list[Removal] = []
    meta: dict = {}

    cache: list[list[Line] | None] = [None]

    def current() -> list[Line]:
        if cache[0] is not None:  # unchanged since the last rule: most rules remove nothing
            return cache[0]
        kept = []
        for i in sorted(window):
            s, e = window[i]
            piece = raw_lines[i][s:e]
            stripped = piece.strip()
            if stripped:
                lead = len(piece) - len(piece.lstrip())
                kept.append(Line(i, stripped, s + lead, s + lead + len(stripped)))
        cache[0] = kept
        return kept

    def apply(r: Rule) -> bool:
        result = r.fn(current(), p)
        changed = False
        for cut in sorted(set(result.cuts), key=lambda c: (c.idx, c.start)):
            s, e = window.get(cut.idx, (0, 0))
            start, end = max(cut.start, s), min(cut.end, e)
            if start >= end:
                continue
            removed = raw_lines[cut.idx][start:end]
            removals.append(Removal(r.qualified, cut.idx, offsets[cut.idx] + start, offsets[cut.idx] + end, removed))
            if start == s:
                s = end
            elif end == e:
                e = start
            else:
                raise ValueError(f"rule {r.qualified} cut the middle of line {cut.idx}")
            if raw_lines[cut.idx][s:e].strip():
                window[cut.idx] = (s, e)
            else:
                del window[cut.idx]
            changed = True
        if changed:
            cache[0] = None
        _merge_meta(meta, result.meta)
        return changed

    for group in _groups([REGISTRY[name] for name in rules]):
        if len(group) == 1:
            apply(group[0])
            continue
        for _ in range(20):  # a fixpoint group converges in a few rounds; bound it anyway
            if not any([apply(r) for r in group]):
                break
    removals.sort(key=lambda r: (r.start, r.end))
    kept = tuple(current())
    return Cleaned(tuple(line.text for line in kept), tuple(removals), meta, kept)
