"""The HTML extractor on a fixed sample of real pages it was never trained on (the test split
of ../shared/extraction-dev), beside trafilatura on the same pages: the floor a change must
not fall through. `make bench-extract` gives the full table; this is its guard in CI."""

from __future__ import annotations

import pytest

from bench.devsets import absent_message, devsets_root, load_pages, score_page, score_set
from bench.extract import thresher_text
from bench.peers import run_peer
from thresher.config import Config

SAMPLE_EVERY = 8  # every 8th test page of each set, in id order: ~85 pages, a few seconds

pytestmark = pytest.mark.skipif(devsets_root() is None, reason=absent_message())


def _sample():
    pages = load_pages(split="test")
    return [p for i, p in enumerate(pages) if i % SAMPLE_EVERY == 0]


def test_quality_floor_on_real_test_pages():
    cfg = Config()
    sample = _sample()
    assert len(sample) >= 60
    ours = [score_page(p.gold, thresher_text(p.html(), p.url, cfg)) for p in sample]
    traf = [score_page(p.gold, run_peer("trafilatura", p.html())) for p in sample]
    mine, theirs = score_set(ours), score_set(traf)
    assert mine.f1 >= 0.90, f"F1 {mine.f1:.3f} on {len(sample)} real test pages"
    assert mine.f1 >= theirs.f1, f"F1 {mine.f1:.3f} below trafilatura's {theirs.f1:.3f} on the same pages"
    assert mine.under_half <= 0.06, f"{mine.under_half:.1%} of pages under F1 0.5"


def test_no_real_page_is_a_two_word_article():
    cfg = Config()
    for page in _sample():
        text = thresher_text(page.html(), page.url, cfg)
        assert text == "" or len(text.split()) >= 10, page.key
