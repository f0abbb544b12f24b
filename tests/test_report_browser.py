"""The HTML report in a real headless browser (Debian's Chromium, driven by Playwright).

CI installs Chromium (`.ci/run`) and sets THRESHER_REQUIRE_BROWSER=1, so there a missing
browser fails the test instead of skipping it. The test opens the report of a run over the
sample corpus, blocks every request that is not the file itself (the page must need no
network), and checks what a reader sees: four charts drawn with real bars, each rule's reason,
and each seed's removed lines with the rule that removed them.
"""

from __future__ import annotations

import os
import shutil

import pytest

from archive_samples import build_archive
from thresher import archive, report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM and os.environ.get("THRESHER_REQUIRE_BROWSER") != "1":
    pytest.skip("Chromium is not installed (apt-get install chromium); CI installs it", allow_module_level=True)

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "THRESHER_REQUIRE_BROWSER=1 but no chromium on PATH"
    _, out, manifest = build_archive(tmp_path_factory.mktemp("browser"))
    path = report.report_path(out, manifest["run_id"])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        tab = browser.new_page(viewport={"width": 1200, "height": 900})
        outside: list[str] = []

        def only_the_file(route):
            if route.request.url == path.as_uri():
                return route.continue_()
            outside.append(route.request.url)
            return route.abort()

        tab.route("**/*", only_the_file)
        tab.goto(path.as_uri())
        tab.screenshot(path=str(path.with_suffix(".png")), full_page=True)
        yield tab, out, outside
        browser.close()


def test_it_loads_without_the_network(page):
    tab, _, outside = page
    assert tab.title().startswith("thresher run ")
    assert outside == []


def test_its_four_charts_are_drawn_with_visible_bars(page):
    tab, _, _ = page
    charts = tab.eval_on_selector_all(
        "figure.chart",
        """figs => figs.map(f => ({id: f.id, caption: f.querySelector('figcaption').textContent,
              svg: f.querySelector('svg').getBoundingClientRect().height,
              bars: [...f.querySelectorAll('rect.bar')].map(b => b.getBoundingClientRect().width)}))""")
    by_id = {c["id"]: c for c in charts}
    assert set(by_id) == {"chart-outcomes", "chart-rules", "chart-reject-sites", "chart-duplicate-sites"}
    assert all(c["svg"] > 20 for c in charts)
    outcomes = by_id["chart-outcomes"]["bars"]
    assert len(outcomes) == 4 and outcomes[0] > 100  # articles: the longest bar
    assert len(by_id["chart-rules"]["bars"]) >= 5 and all(w >= 1 for w in by_id["chart-rules"]["bars"])
    assert len(by_id["chart-reject-sites"]["bars"]) == 2 and len(by_id["chart-duplicate-sites"]["bars"]) == 1


def test_a_reader_finds_why_each_seed_line_was_removed(page):
    tab, out, _ = page
    shown = tab.eval_on_selector_all(
        "details.document tr",
        "rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.innerText))")
    shown = {(cells[1], cells[2]) for cells in shown if len(cells) == 3}
    seeds = [r for r in archive.read_dataset(out, "articles", ["source_path", "removed"]).to_pylist()
             if r["source_path"].startswith("00")]
    for row in seeds:
        for r in row["removed"]:
            assert (r["rule"], r["text"]) in shown, r
            reason = tab.inner_text(f'[id="rule-{r["rule"]}"]')
            assert report.rule_doc(r["rule"])[:40] in reason
    assert tab.is_visible("details.document >> nth=0")  # small runs open every page's list
