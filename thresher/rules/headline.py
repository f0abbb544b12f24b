"""The top of a flattened page: the headline (moved to ``title``) and the chrome above it."""

from __future__ import annotations

from collections.abc import Sequence

from thresher.patterns import Patterns
from thresher.rules.engine import Line, RuleOutput, rule
from thresher.rules.predicates import is_name_line, is_paragraph, is_title_like, is_upper_banner
from thresher.text import word_count

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
    normal = [k for k in candidates if not is_upper_banner(lines[k].text) and not is_name_line(lines[k].text)] or candidates
    normal = [k for k in normal if word_count(lines[k].text) >= HEADLINE_MIN_WORDS] or normal
    last = normal[-1]
    if len(normal) >= 2 and word_count(lines[last].text) > STANDFIRST_WORDS:
        before = normal[-2]
        if 4 <= word_count(lines[before].text) <= STANDFIRST_WORDS and before == last - 1:
            return before
    return last


@rule("leading_chrome", version=2)
def leading_chrome(lines: Sequence[Line], p: Patterns) -> RuleOutput:
    """Everything above the headline: site banners, section names, menus that the phrase
    tables did not know. Fires only when a headline is found before the first paragraph, so
    a dump that starts with body text loses nothing; and not when two or more paragraphs sit
    above that "headline" (a catalogue, a front page of posts: the body started before it,
    and one lone paragraph among menus is a promo or a notice, more paragraphs are text), nor
    when no paragraph follows it (a short page whose last line is headline-shaped).
    """
    out = RuleOutput()
    head = find_headline(lines) or 0
    above = lines[:head]
    if sum(1 for line in above if is_paragraph(line.text)) >= ABOVE_HEADLINE_MAX_PARAGRAPHS:
        return out
    if above and not any(is_paragraph(line.text) for line in lines[head + 1 :]):
        return out  # no article under it: the "headline" is a closing line (a byline, a link)
    for line in above:
        out.drop(line)
    return out


ABOVE_HEADLINE_MAX_PARAGRAPHS = 2


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
