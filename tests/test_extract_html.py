"""HTML pages to article text: hidden copies removed, split bodies rejoined, charsets honoured,
metadata read from the markup, and the text rules applied after the extractor."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES
from thresher.config import Config
from bench.devsets import overlap, prf
from thresher.text import shingles
from thresher.extract import extract_html
from thresher.extract.html import READABILITY, TRAFILATURA, parse_tree, prose_words, remove_hidden, sniff_charset
from thresher.records import Reject

HTML = sorted((FIXTURES / "html").glob("*.html"))
PARAS = [
    "The regional council approved a new flood defence plan on Tuesday after two years of consultation with residents.",
    "Engineers will raise the river wall by 1.2 metres along a four-kilometre stretch of the town centre.",
    "\"We cannot keep rebuilding the same streets every winter,\" said council leader Amira Haddad.",
    "Work is due to begin in March and will cost an estimated 48 million euros, most of it from national funds.",
]


def page(body: str, head: str = "<title>Council backs flood plan</title>") -> bytes:
    return f"<!doctype html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>".encode()


def article(paras, cls="article-body") -> str:
    return f"<div class='{cls}' itemprop='articleBody'>" + "".join(f"<p>{p}</p>" for p in paras) + "</div>"


def test_hidden_duplicate_is_not_extracted_twice():
    body = ("<article><h1>Council backs flood plan</h1>" + article(PARAS) + "</article>"
            + "<div style='display:none' class='print-version'>" + article(PARAS, "print-body") + "</div>")
    ex, _ = extract_html(page(body), Config())
    assert ex.text.count(PARAS[0]) == 1


def test_remove_hidden_drops_invisible_elements():
    tree = parse_tree("<html><body><p>seen</p><p hidden>no</p><div style='display: none'>no</div>"
                      "<noscript>no</noscript><p aria-hidden='true'>no</p></body></html>")
    remove_hidden(tree)
    assert tree.text_content().split() == ["seen"]


def test_body_split_by_an_ad_row_is_rejoined():
    html = (FIXTURES / "html" / "b_split_ad_row.html").read_bytes()
    gold = (FIXTURES / "html" / "b_split_ad_row.expected.txt").read_text(encoding="utf-8")
    ex, _ = extract_html(html, Config())
    assert ex.extractor == READABILITY
    assert prf(*overlap(shingles(ex.text), shingles(gold)))[1] >= 0.95


def test_trafilatura_is_first_and_recorded():
    ex, meta = extract_html(page("<article><h1>Council backs flood plan</h1>" + article(PARAS) + "</article>"), Config())
    assert ex.extractor == TRAFILATURA and ex.title == "Council backs flood plan"
    assert ex.text.split("\n\n")[:4] == PARAS


def test_text_rules_run_after_the_extractor():
    body = "<article>" + article(PARAS[:2] + ["READ MORE: Storm closes schools across the county"] + PARAS[2:]) + "</article>"
    ex, _ = extract_html(page(body), Config())
    assert "READ MORE" not in ex.text
    assert any(r.rule == "teaser_link@1" for r in ex.removed)


def test_metadata_from_markup():
    head = ("<title>Council backs flood plan | Valley Times</title>"
            "<meta property='og:site_name' content='Valley Times'>"
            "<link rel='canonical' href='https://valleytimes.example/news/flood-plan'>"
            "<meta name='description' content='The river wall will be raised by 1.2 metres.'>"
            "<meta name='author' content='Lena Fischer'>"
            "<meta property='article:published_time' content='2025-03-04T09:30:00+01:00'>")
    ex, meta = extract_html(page("<article>" + article(PARAS) + "</article>", head), Config())
    assert meta.site_name == "Valley Times"
    assert meta.canonical_url == "https://valleytimes.example/news/flood-plan"
    assert meta.description == "The river wall will be raised by 1.2 metres."
    assert ex.authors == ("Lena Fischer",)
    assert ex.published_at.startswith("2025-03-04")
    assert ex.language == "en"


def test_declared_charset_is_honoured():
    text = "<html><head><meta http-equiv='Content-Type' content='text/html; charset=windows-1252'></head><body><article>"
    text += "".join(f"<p>{p} Café “Zürich” — naïve.</p>" for p in PARAS) + "</article></body></html>"
    data = text.encode("cp1252")
    assert sniff_charset(data) == "windows-1252"
    ex, _ = extract_html(data, Config())
    assert ex.encoding == "cp1252" and "Café “Zürich” — naïve." in ex.text


@pytest.mark.parametrize("data, reason", [(b"", "empty"), (b"<html><body><nav>Home</nav></body></html>", "no_content"),
                                          (b"\x00\x01PNG" * 40, "not_text")])
def test_bad_pages_are_rejected_with_a_reason(data, reason):
    out = extract_html(data, Config())
    assert isinstance(out, Reject) and out.reason == reason


def test_prose_words_counts_running_text_only():
    tree = parse_tree("<html><body><nav><p>" + PARAS[1] + "</p></nav><p>" + PARAS[0] + "</p>"
                      "<p><a href='#'>A long list of linked teaser words here and there</a></p>"
                      "<div>" + PARAS[2] + "<br>" + PARAS[3] + "</div></body></html>")
    assert prose_words(tree) == sum(len(p.split()) for p in (PARAS[0], PARAS[2], PARAS[3]))


@pytest.mark.parametrize("html", HTML, ids=lambda p: p.stem)
def test_fixture_page_quality_floor(html):
    gold = html.with_suffix(".expected.txt").read_text(encoding="utf-8")
    meta = json.loads(html.with_suffix(".meta.json").read_text(encoding="utf-8"))
    ex, _ = extract_html(html.read_bytes(), Config())
    p, r, f1 = prf(*overlap(shingles(ex.text), shingles(gold)))
    assert f1 >= 0.8 and r >= 0.8
    assert (ex.language or "")[:2] == meta["language"][:2]


def test_fixture_set_beats_trafilatura_alone():
    import trafilatura

    ours, theirs = [0, 0, 0], [0, 0, 0]
    for html in HTML:
        gold = shingles(html.with_suffix(".expected.txt").read_text(encoding="utf-8"))
        ex, _ = extract_html(html.read_bytes(), Config())
        alone = trafilatura.extract(html.read_bytes(), favor_precision=True, include_comments=False, deduplicate=False) or ""
        ours = [a + b for a, b in zip(ours, overlap(shingles(ex.text), gold))]
        theirs = [a + b for a, b in zip(theirs, overlap(shingles(alone), gold))]
    assert prf(*ours)[2] > prf(*theirs)[2] and prf(*ours)[0] >= prf(*theirs)[0]
