"""Teasers: links to other stories, alone ("READ MORE: ...") or in blocks under a header
("Related news", "See more", "Lire aussi") with their titles, captions and summaries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from thresher.patterns import Patterns
from thresher.rules.engine import Line, RuleOutput, rule
from thresher.rules.predicates import ends_sentence, is_caption, is_chrome, is_image_residue, is_teaser_header, is_title_like
from thresher.text import word_count

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
