"""Questions the rules ask of a line: is it a sentence, a headline, chrome, a caption, a name?

Pure and memoised where they consult the phrase tables: sites repeat the same chrome on every
page, and teaser parsing asks the same question of a line many times.
"""

from __future__ import annotations

import re
from functools import lru_cache

from thresher.patterns import Patterns, phrase_key
from thresher.text import word_count

_SENTENCE_END = re.compile(r"[.!?…:;。！？][\"'“”‘’«»‹›)\]」』）]*$")


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


def clear_caches() -> None:
    """Forget memoised line predicates (benchmarks use it so a second pass is not pre-warmed)."""
    for fn in (is_chrome, is_caption, is_image_residue, is_teaser_header):
        fn.cache_clear()


def is_name_line(text: str) -> bool:
    """A short line of capitalised words with no sentence punctuation: "Jack Morrison", "AAP"."""
    words = text.split()
    return 1 <= len(words) <= 4 and not ends_sentence(text) and all(w[0].isupper() or w in {"&", "-", "|"} for w in words)


def is_organisation(name: str, p: Patterns) -> bool:
    """A desk, a team or an agency, not a person: "Staff report", "Reuters", "News Desk"."""
    return name.casefold() in p.agencies or bool(p.org_words & {w.casefold() for w in name.split()})


def is_person(text: str, p: Patterns) -> bool:
    """Two or three words that name a person (not an organisation)."""
    return 2 <= len(text.split()) <= 3 and not is_organisation(text, p)


def person_names(names: list[str], p: Patterns) -> list[str]:
    """The names that are people."""
    return [n for n in names if not is_organisation(n, p)]


def clean_names(raw: str, p: Patterns) -> list[str]:
    """Person names from a byline's name part: roles and connectors dropped, desks left out."""
    raw = p.byline_roles.sub("", raw).strip(" ,|/–—-")
    return person_names([n.strip(" .") for n in p.byline_split.split(raw) if n.strip(" .")], p)


def byline_names(text: str, p: Patterns) -> list[str]:
    """Person names in a byline as a page shows it: "By Jane Doe and John Roe, Staff Writers"."""
    text = " ".join(text.split())
    text = re.split(r"\s[|·•—–]\s?|\s\d|\s(?i:posted|updated|published)\b", text)[0]  # "Dan Whitfield | Courier", "Dev Malhotra · Aug. 8"
    text = p.byline_element_prefix.sub("", text, count=1)
    return [n for n in clean_names(text, p) if 1 <= len(n.split()) <= 5 and n[:1].isupper()]
