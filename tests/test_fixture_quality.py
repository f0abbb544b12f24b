"""Quality floor on the varied fixture dumps (25 invented sites, 9 languages): the rules must
keep the article and drop the chaff on sites unlike the seeds. `make bench-quality` prints the
full table; this test fails when a change makes any page, or the set, markedly worse."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES
from thresher.config import Config
from bench.devsets import overlap, prf, tokens
from thresher.extract import clean_dump

DUMPS = sorted(p for d in ("dumps", "dumps_intl") for p in (FIXTURES / d).glob("*.txt") if not p.name.endswith(".expected.txt"))


def _score(raw):
    slug = raw.name[: -len(".txt")]
    gold = (raw.parent / f"{slug}.expected.txt").read_text(encoding="utf-8")
    meta = json.loads((raw.parent / f"{slug}.meta.json").read_text(encoding="utf-8"))
    out = clean_dump(raw.read_bytes(), Config())
    return overlap(tokens(out.text), tokens(gold)), out, meta


def test_fixture_set_is_varied():
    assert len(DUMPS) >= 20
    languages = {json.loads(p.with_name(p.name[:-4] + ".meta.json").read_text())["language"] for p in DUMPS}
    assert len(languages) >= 6


# The dump line model (issue 19) drops the last paragraph of this page: it follows a teaser
# block in the middle of the article, and the model weighs a line's neighbours. Known and
# measured (recall 0.83); strict, so the day it passes the marker has to go.
MODEL_MISSES = {"vi_noblank_nav": "line model drops the paragraph after a mid-article teaser block (issue 19)"}


@pytest.mark.parametrize("raw", [pytest.param(p, marks=pytest.mark.xfail(reason=MODEL_MISSES[p.stem], strict=True))
                                 if p.stem in MODEL_MISSES else p for p in DUMPS],
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_page_keeps_its_article(raw):
    (tp, npred, ngold), out, meta = _score(raw)
    precision, recall, f1 = prf(tp, npred, ngold)
    assert recall >= 0.9, "article text was dropped"
    assert f1 >= 0.85
    assert out.title == meta["title"]


def test_whole_set_f1():
    totals = [0, 0, 0]
    for raw in DUMPS:
        o, _, _ = _score(raw)
        totals = [a + b for a, b in zip(totals, o)]
    precision, recall, f1 = prf(*totals)
    assert f1 >= 0.95 and precision >= 0.95 and recall >= 0.97
