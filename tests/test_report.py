"""The run report: right numbers, every removed line with its rule, safe self-contained HTML."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from archive_samples import build_archive
from thresher import archive, report


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return build_archive(tmp_path_factory.mktemp("report"))


def test_counts_match_the_manifest_and_the_datasets(sample):
    _, out, manifest = sample
    data = report.run_report(out)
    outcomes = dict(data["outcomes"])
    assert outcomes["articles"] == manifest["counts"]["articles"] == archive.read_dataset(out, "articles").num_rows
    assert outcomes["duplicates"] == 1 and outcomes["rejects"] == 2
    assert dict(data["rejects_by_reason"]) == manifest["rejects_per_reason"]
    # the reject with a sidecar site is counted under it; the other under its folder
    assert dict(data["rejects_by_site"]) == {"junk.example": 1, "broken/": 1}
    assert dict(data["duplicates_by_site"]) == {"mirror.example": 1}


def test_characters_per_rule_add_up_to_every_removed_span(sample):
    _, out, _ = sample
    data = report.run_report(out)
    rows = archive.read_dataset(out, "articles", ["removed"]).to_pylist() + archive.read_dataset(out, "duplicates", ["removed"]).to_pylist()
    spans = [r for row in rows for r in row["removed"]]
    assert sum(r["chars"] for r in data["rules"]) == sum(len(s["text"]) for s in spans) == data["chaff"]["removed_chars"]
    assert sum(r["spans"] for r in data["rules"]) == len(spans)
    assert [r["chars"] for r in data["rules"]] == sorted((r["chars"] for r in data["rules"]), reverse=True)
    assert all(r["doc"] and not r["doc"].startswith("(a rule") for r in data["rules"])


def test_the_largest_cluster_names_its_canonical_and_members(sample):
    _, out, _ = sample
    (cluster,) = report.run_report(out)["clusters"]
    assert cluster["size"] == 2
    assert cluster["canonical"]["source_path"] == "001_3c8e0fc09b8af7fa.txt"
    assert cluster["canonical"]["title"].startswith("Hanoi Convention")
    assert [m["source_path"] for m in cluster["members"]] == ["mirror/copy_of_001.txt"]


def test_html_lists_every_removed_seed_line_with_its_rule(sample):
    _, out, _ = sample
    path, data = report.write_report(out)
    page = path.read_text(encoding="utf-8")
    seeds = archive.read_dataset(out, "articles", ["source_path", "removed"]).to_pylist()
    checked = 0
    for row in seeds:
        if not row["source_path"].startswith("00"):
            continue
        for r in row["removed"]:
            escaped = str(escape(r["text"]))
            assert re.search(rf'<td class="rule"><a href="#rule-{re.escape(r["rule"])}">{re.escape(r["rule"])}</a></td>'
                             rf'<td class="span">{re.escape(escaped)}</td>', page), r
            checked += 1
    assert checked >= 50
    for rule in data["rules"]:  # the link target holds the reason
        assert f'id="rule-{rule["rule"]}"' in page and str(escape(rule["doc"][:60])) in page


def test_html_is_self_contained_and_escapes_scraped_text(sample):
    _, out, _ = sample
    data = report.run_report(out)
    data["documents"][0]["title"] = "<script>alert('title')</script>"
    data["documents"][0]["removed"].append({"rule": "caption@1", "line": 9, "text": "<img src=http://tracker.example/p.gif>"})
    data["rejects_by_site"].append(("<svg onload=alert(1)>", 3))  # site names end up in SVG labels
    page = report.render_html(data)
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<svg onload" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=http://tracker.example/p.gif&gt;" in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page must not load anything from the network"
    assert page.count('<figure class="chart"') == 4


def test_any_run_can_be_regenerated_and_unknown_runs_are_refused(tmp_path):
    raw, out, first = build_archive(tmp_path / "own")  # adds a run: not the shared archive
    (raw / "late.txt").write_text("\n".join(["A late story about the harbour bridge repairs went on all night."] * 3))
    from conftest import run_local

    second = run_local(raw, out)
    assert report.run_report(out)["run_id"] == second["run_id"]
    old = report.run_report(out, first["run_id"])
    assert old["run_id"] == first["run_id"] and dict(old["outcomes"])["duplicates"] == 1
    assert dict(report.run_report(out)["outcomes"]) == {"articles": 1, "duplicates": 0, "rejects": 0,
                                                       "skipped (already archived)": first["inputs"]["seen"]}
    with pytest.raises(LookupError, match="no published run 'nope'"):
        report.run_report(out, "nope")
    with pytest.raises(LookupError, match="no published run"):
        report.run_report(tmp_path)


def test_markdown_summary_has_outcomes_rules_and_the_report_path(sample):
    _, out, _ = sample
    md = report.render_markdown(report.run_report(out), "clean/reports/x.html")
    assert "| duplicates | 1 |" in md and "| rejects | 2 |" in md
    assert "teaser_block@1" in md and "clean/reports/x.html" in md


def test_the_latest_run_is_the_last_published_even_within_one_second(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for run_id, finished in (("20261123T034358Z-ffffff", "2026-11-23T03:43:58.100000+00:00"),
                             ("20261123T034358Z-000000", "2026-11-23T03:43:58.900000+00:00")):
        (runs / f"{run_id}.json").write_text(f'{{"run_id": "{run_id}", "finished_at": "{finished}", "files": []}}')
    assert [m["run_id"] for m in archive.load_manifests(tmp_path)] == ["20261123T034358Z-ffffff", "20261123T034358Z-000000"]
    assert report.find_manifest(tmp_path)["run_id"] == "20261123T034358Z-000000"
