"""HTML pages to article text: blocks chosen by the learned model, every dropped block logged,
the headline moved to ``title``, no silent catastrophe, charsets honoured, a time limit per
page, and the text rules applied after the extractor."""

from __future__ import annotations

import json
import threading
import time

import pytest

from conftest import FIXTURES
from thresher.text import shingles

from thresher.config import Config
from thresher.extract import extract_html
from thresher.extract import html as extract
from thresher.extract.blocks import page_blocks
from thresher.extract.html import parse_tree, remove_hidden, select_blocks
from thresher.extract.selection import load_model
from thresher.records import Reject

HTML = sorted((FIXTURES / "html").glob("*.html"))
PARAS = [
    "The regional council approved a new flood defence plan on Tuesday after two years of consultation with residents.",
    "Engineers will raise the river wall by 1.2 metres along a four-kilometre stretch of the town centre.",
    "\"We cannot keep rebuilding the same streets every winter,\" said council leader Amira Haddad.",
    "Work is due to begin in March and will cost an estimated 48 million euros, most of it from national funds.",
]
NAV = "<nav><ul>" + "".join(f"<li><a href='/{w}'>{w}</a></li>" for w in ("Home", "World", "Sport", "Culture", "Weather")) + "</ul></nav>"
FOOTER = "<footer><p><a href='/about'>About us</a> | <a href='/privacy'>Privacy</a> | © 2025 Valley Times</p></footer>"


def page(body: str, head: str = "<title>Council backs flood plan</title>") -> bytes:
    return f"<!doctype html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>".encode()


def article(paras, cls="article-body") -> str:
    return f"<div class='{cls}' itemprop='articleBody'>" + "".join(f"<p>{p}</p>" for p in paras) + "</div>"


def news_page(paras=PARAS, extra: str = "") -> bytes:
    return page(NAV + "<main><article><h1>Council backs flood plan</h1>" + article(paras) + extra + "</article></main>" + FOOTER)


def test_article_kept_and_chrome_dropped():
    ex, _ = extract_html(news_page(), Config())
    assert ex.text.split("\n\n") == PARAS
    assert "Privacy" not in ex.text and "Weather" not in ex.text
    assert ex.extractor == f"extract@{load_model().version}"


def test_every_dropped_block_is_logged_under_the_extractor():
    ex, _ = extract_html(news_page(), Config())
    dropped = {r.text for r in ex.removed if r.rule == f"extract@{load_model().version}"}
    assert {"Home", "World", "Sport", "Culture", "Weather"} <= dropped
    assert any("Privacy" in t for t in dropped)


def test_long_dropped_block_is_logged_by_its_first_200_characters():
    chrome = "<aside class='sidebar-widget related'>" + "<a href='/x'>Read our other story about the weather</a> " * 20 + "</aside>"
    ex, _ = extract_html(page(NAV + article(PARAS) + chrome + FOOTER), Config())
    logged = [r for r in ex.removed if r.rule.startswith("extract@") and "other story" in r.text]
    assert logged and all(len(r.text) <= extract.REMOVED_CHARS for r in logged)
    assert any(r.end - r.start > extract.REMOVED_CHARS for r in logged)  # the offsets span the whole block


def test_headline_moves_to_title_and_out_of_text():
    ex, _ = extract_html(news_page(), Config())
    assert ex.title == "Council backs flood plan"
    assert "Council backs flood plan" not in ex.text
    assert any(r.rule.startswith("headline@") and r.text == "Council backs flood plan" for r in ex.removed)


def test_h1_is_the_title_when_metadata_has_none():
    ex, _ = extract_html(page("<article><h1>Storm closes the coast road</h1>" + article(PARAS) + "</article>", head=""), Config())
    assert ex.title == "Storm closes the coast road" and not ex.text.startswith("Storm closes")


def test_link_text_stays_inside_its_sentence():
    para = ("The regional broadcaster <a href='/p/haddad'>has reported that council leader Amira Haddad</a> "
            "will be honoured for her role in the flood plan, which took two years of consultation.")
    ex, _ = extract_html(news_page(PARAS[:2] + [para] + PARAS[2:]), Config())
    assert ("The regional broadcaster has reported that council leader Amira Haddad will be honoured for her role") in ex.text


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


def test_xhtml_with_an_encoding_declaration_is_parsed():
    body = "<p>Le conseil régional a approuvé mardi un nouveau plan de protection contre les crues, après deux ans de concertation.</p>" * 3
    data = ('<?xml version="1.0" encoding="ISO-8859-1"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
            '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html xmlns="http://www.w3.org/1999/xhtml"><head>'
            "<title>Crues</title></head><body><div id='article'>" + body + "</div></body></html>").encode("iso-8859-1")
    ex, _ = extract_html(data, Config())
    assert "conseil régional a approuvé" in ex.text
    assert (ex.encoding, ex.encoding_source) == ("cp1252", "xml")


def test_mojibake_is_repaired_and_recorded():
    paras = [p.replace("council", "café council") for p in PARAS]
    data = news_page(paras).decode("utf-8").replace("café", "cafÃ©").encode("utf-8")
    ex, _ = extract_html(data, Config())
    assert "café council" in ex.text and "Ã" not in ex.text
    assert ex.encoding_source == "utf-8+ftfy"


def test_clean_page_is_not_repaired():
    ex, _ = extract_html(news_page(), Config())
    assert ex.encoding_source == "utf-8"


def test_two_word_page_is_too_short_with_figures():
    out = extract_html(page("<div class='main'><h2>Entermedia 주요뉴스</h2></div>"), Config())
    assert isinstance(out, Reject) and out.reason == "too_short"
    assert "words" in out.detail and "minimum" in out.detail


def test_page_with_no_text_is_no_content():
    out = extract_html(page("<div><div></div></div>"), Config())
    assert isinstance(out, Reject) and out.reason == "no_content"


class _KeepNothing:
    """A model that keeps no block: the short-body guard must step in."""

    def __init__(self, model):
        self.features, self.threshold, self.version = model.features, 2.0, model.version

    def probability(self, X):
        return load_model().probability(X)


def test_guard_takes_another_candidate_when_the_body_is_far_too_short():
    model = load_model()
    found = extract.analyse_page(news_page(), model, Config().patterns)
    chosen = select_blocks(found, _KeepNothing(model))
    assert chosen.how in {"trafilatura", "container"}
    kept = [b.text for b, k in zip(found.blocks, chosen.keep) if k]
    assert PARAS[0] in kept and PARAS[-1] in kept


def test_guard_does_not_fire_when_the_model_keeps_the_body():
    model = load_model()
    chosen = select_blocks(extract.analyse_page(news_page(), model, Config().patterns), model)
    assert chosen.how == "model" and chosen.kept_words >= chosen.prose_words


def test_slow_page_is_a_timeout_reject(monkeypatch):
    monkeypatch.setattr(extract, "_extract", lambda *a: time.sleep(5))
    out = extract_html(news_page(), Config(page_timeout=0.05))
    assert isinstance(out, Reject) and out.reason == "timeout" and "0.05 s" in out.detail


def test_time_limit_is_off_outside_the_main_thread(monkeypatch):
    monkeypatch.setattr(extract, "_extract", lambda *a: (time.sleep(0.1), "done")[1])
    result = []
    t = threading.Thread(target=lambda: result.append(extract_html(news_page(), Config(page_timeout=0.01))))
    t.start()
    t.join()
    assert result == ["done"]


def test_extraction_is_deterministic():
    data = news_page(extra="<p>Comments are closed.</p>")
    assert extract_html(data, Config()) == extract_html(data, Config())


def test_text_rules_run_after_the_extractor():
    body = "<article>" + article(PARAS + ["© 2025 Valley Times Media. All rights reserved."]) + "</article>"
    ex, _ = extract_html(page(body), Config())
    assert "All rights reserved" not in ex.text and ex.text.split("\n\n") == PARAS
    assert any(r.rule.startswith("footer@") and "All rights reserved" in r.text for r in ex.removed)


def test_rules_that_cut_gold_on_real_pages_do_not_run_on_html():
    # bylines and date lines are part of the article as real gold bodies mark it (measured on
    # the train split: those rules removed more gold than chaff after the model's choice)
    body = "<article>" + article(["By Lena Fischer", "4 March 2025"] + PARAS) + "</article>"
    ex, _ = extract_html(page(body), Config())
    assert not any(r.rule.startswith(("byline@", "date_line@")) for r in ex.removed)


def test_blocks_split_at_block_elements_and_breaks():
    tree = parse_tree("<html><body><div>one <b>two</b><br>three<p>four <a href='#'>five</a></p>six</div></body></html>")
    blocks = page_blocks(tree)
    assert [b.text for b in blocks] == ["one two", "three", "four five", "six"]
    assert [b.link_words for b in blocks] == [0, 0, 1, 0]


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


@pytest.mark.parametrize("declared", ["iso-8859-1", "windows-1252", None])
def test_charset_from_http_header_or_detection(declared):
    text = "Le député a déclaré que les commerçants avaient déjà fermé leurs boutiques à Genève ce mardi."
    data = f"<html><body><article><p>{text}</p><p>{text}</p></article></body></html>".encode("cp1252")
    ex, _ = extract_html(data, Config(), http_charset=declared)
    assert "député" in ex.text and "commerçants" in ex.text and ex.encoding == "cp1252"


def test_declared_charset_is_honoured():
    text = "<html><head><meta http-equiv='Content-Type' content='text/html; charset=windows-1252'></head><body><article>"
    text += "".join(f"<p>{p} Café “Zürich” — naïve.</p>" for p in PARAS) + "</article></body></html>"
    ex, _ = extract_html(text.encode("cp1252"), Config())
    assert (ex.encoding, ex.encoding_source) == ("cp1252", "meta") and "Café “Zürich” — naïve." in ex.text


@pytest.mark.parametrize("data, reason", [(b"", "empty"), (b"<html><body><nav>Home</nav></body></html>", "too_short"),
                                          (b"\x00\x01PNG" * 40, "not_text")])
def test_bad_pages_are_rejected_with_a_reason(data, reason):
    out = extract_html(data, Config())
    assert isinstance(out, Reject) and out.reason == reason


def _f1(pred: str, gold: str) -> tuple[float, float]:
    a, b = shingles(pred), shingles(gold)
    common = sum((a & b).values())
    p, r = common / max(1, sum(a.values())), common / max(1, sum(b.values()))
    return (2 * p * r / (p + r) if p + r else 0.0), r


@pytest.mark.parametrize("html", HTML, ids=lambda p: p.stem)
def test_fixture_page_quality_floor(html):
    """Regression only (these pages are not evidence): each fixture keeps its article."""
    gold = html.with_suffix(".expected.txt").read_text(encoding="utf-8")
    meta = json.loads(html.with_suffix(".meta.json").read_text(encoding="utf-8"))
    ex, _ = extract_html(html.read_bytes(), Config())
    f1, recall = _f1(ex.text, gold)
    assert f1 >= 0.75 and recall >= 0.8  # written for the previous extractor; evidence is the real test split
    assert (ex.language or "")[:2] == meta["language"][:2]
