"""The five seed pages in raw/ come out exactly as reviewed: every body sentence kept, no
chrome, teaser, caption, credit or end-marker line left, and the right title."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, ROOT
from thresher.config import Config
from thresher.extract import clean_dump

SEEDS = sorted((ROOT / "raw").glob("*.txt"))


def test_all_five_seeds_are_in_raw():
    assert len(SEEDS) == 5


@pytest.mark.parametrize("raw", SEEDS, ids=lambda p: p.stem)
def test_seed_cleaned_text_and_title(raw):
    expected = (FIXTURES / "seeds" / f"{raw.stem}.expected.txt").read_text(encoding="utf-8").splitlines()
    meta = json.loads((FIXTURES / "seeds" / f"{raw.stem}.meta.json").read_text(encoding="utf-8"))
    out = clean_dump(raw.read_bytes(), Config())
    assert out.text.split("\n\n") == expected
    assert out.title == meta["title"]
    assert list(out.authors) == meta["authors"]
    assert out.source_agency == meta["source_agency"]


@pytest.mark.parametrize("raw", SEEDS, ids=lambda p: p.stem)
def test_seed_has_no_chaff_left(raw):
    text = clean_dump(raw.read_bytes(), Config()).text
    for chaff in ("See more", "Related news", "Log in", "Share:", "Reactions:", "(Photo:", "Photo:", ".jpg",
                  "leftcenterrightdel", "Translated by", "Source: VNA", "/.", "Most Viewed", "Trending"):
        assert chaff not in text
    assert not text.endswith("VNA")


def test_datelines_stay_in_the_text():
    text = clean_dump((ROOT / "raw" / "001_3c8e0fc09b8af7fa.txt").read_bytes(), Config()).text
    assert "Hanoi (VNA) – The signing ceremony" in text
