"""Property: the rules never lose text they did not log. For any input, every non-blank
normalised line is exactly its kept part plus its logged removals, and the rules never raise."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from thresher.config import DEFAULT_RULES
from thresher.rules import strip_boilerplate
from thresher.text import normalize_lines

# Lines drawn from real chaff, real prose and noise, so the rules actually fire.
CHAFF = ["Log in", "Share:", "See more", "Related news", "Advertisement", "(Photo: VNA)", "unodc.jpg", "VNA",
         "Story: A B Photos: C D Translated by E F", "Source: Reuters", "By Jane Doe", "Home > World > Asia",
         "5 hours ago", "Published March 3, 2025", "© 2025 Example. All rights reserved.", "Comments (3)", "(END)",
         "leftcenterrightdel", "READ MORE: Storm closes schools", "Jack Morrison", "Tags: a, b"]
PROSE = ["The council voted 7-2 on Tuesday to approve the plan, officials said.",
         "Short headline about the river", "\"No,\" she said.", "Users who tap \"See more\" are shown ads.",
         "Hanoi (VNA) – The ceremony took place on October 25./."]
line = st.one_of(st.sampled_from(CHAFF), st.sampled_from(PROSE), st.text(max_size=60), st.just(""))


@settings(max_examples=300, deadline=None)
@given(st.lists(line, max_size=40))
def test_kept_plus_removed_is_every_line(lines):
    text = "\n".join(lines)
    out = strip_boilerplate(text, DEFAULT_RULES)
    norm = normalize_lines(text)
    pieces: dict[int, list[tuple[int, str]]] = {}
    for r in out.removals:
        pieces.setdefault(r.line, []).append((r.start, r.text))
    offsets = [sum(len(x) + 1 for x in norm[:i]) for i in range(len(norm))]
    for k in out.kept:
        pieces.setdefault(k.idx, []).append((offsets[k.idx] + k.start, k.text))
    for idx, original in enumerate(norm):
        rebuilt = "".join(t for _, t in sorted(pieces.get(idx, [])))
        assert rebuilt.replace(" ", "") == original.replace(" ", ""), (idx, original, rebuilt)
    assert [k.text for k in out.kept] == list(out.paragraphs)


# Phrases and texts over a small alphabet (cases, accents, spaces, regex metacharacters), so
# phrases share prefixes, nest and overlap as the caption labels do.
_ALPHABET = "aAbBéÉ (.:/-фФ"
_phrase = st.text(alphabet=_ALPHABET, min_size=1, max_size=6)


@settings(max_examples=400, deadline=None)
@given(st.lists(_phrase, min_size=1, max_size=12), st.text(alphabet=_ALPHABET, max_size=30))
def test_a_trie_of_phrases_finds_what_their_alternation_finds(phrases, text):
    """The caption trigger is a trie of its phrases for speed: it must say yes exactly where
    the plain alternation does, case-insensitively too."""
    import re

    from thresher.patterns import _alternation, _trie

    for flags in (0, re.IGNORECASE):
        assert bool(re.search(_trie(phrases), text, flags)) == bool(re.search(_alternation(phrases), text, flags))
