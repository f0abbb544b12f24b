"""The same story fetched again and again: re-fetches are duplicates (``refetch``), never
template; a story that changed is a new version linked to the previous one; template
paragraphs still go when a site prints them in many *different* stories."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import run_local
from thresher import archive, audit, search
from thresher.dedup import templates

HEADLINE = "Harbour council approves ferry terminal after two-year fight"
BODY = [
    "PORT ELLIS — The harbour council voted 6-3 on Thursday night to approve a new ferry terminal on the old "
    "coal wharf, ending a two-year dispute between commuters, fishermen and the port authority.",
    "The $84 million terminal will replace the 1960s ticket hall on Quay Street and add two berths, a covered "
    "waiting area for 400 passengers and a bicycle store, according to plans released by the council.",
    "Supporters said the existing terminal was unsafe in winter storms, when passengers queue on an open pier. "
    "\"People stand in the rain for forty minutes with their children,\" said commuter Ana Ribeiro.",
    "Fishermen who moor at the coal wharf argued that the project would push them to a smaller basin with no "
    "ice plant. The council agreed to fund a new ice plant and to keep six berths for the fishing fleet.",
    "Port authority chief executive Malcolm Deane said construction would start in the spring and take about "
    "two years, during which ferries will use a temporary pontoon near the customs house.",
    "Opponents on the council said the cost had risen by a third since the first proposal and that the "
    "business case relied on passenger numbers that had not recovered since 2019.",
    "Councillor Ruth Okonjo, who voted against, said residents of the east shore would pay for the terminal "
    "through higher rates while most of the benefit went to commuters from the islands.",
    "The state government has promised $30 million towards the project, with the rest to come from the "
    "council's infrastructure fund and a loan from the regional development bank.",
]
URL = "https://www.portellisherald.example/news/ferry-terminal-approved"
T0 = datetime(2025, 3, 6, 22, 0, tzinfo=timezone.utc)


def write_fetch(raw, name: str, paragraphs: list[str], url: str, when: datetime, site: str = "Port Ellis Herald") -> None:
    """One fetch of a page, as a scraper leaves it: a text dump and its sidecar."""
    raw.mkdir(parents=True, exist_ok=True)
    (raw / f"{name}.txt").write_text("\n".join(["Port Ellis Herald", "News", HEADLINE, *paragraphs]) + "\n", encoding="utf-8")
    (raw / f"{name}.json").write_text(json.dumps({"url": url, "site": site, "fetched_at": when.isoformat()}), encoding="utf-8")


def edited(k: int) -> list[str]:
    """Copy k of the article: one word changed (k >= 1), as re-fetches of a live page differ."""
    if k == 0:
        return list(BODY)
    words = ["Thursday", "commuters", "winter", "fleet", "spring", "third", "residents", "loan", "pontoon"]
    swap = {"Thursday": "Wednesday", "commuters": "travellers", "winter": "autumn", "fleet": "boats", "spring": "summer",
            "third": "quarter", "residents": "ratepayers", "loan": "credit", "pontoon": "jetty"}
    word = words[(k - 1) % len(words)]
    return [p.replace(word, swap[word], 1) if word in p else p for p in BODY]


def articles(out) -> list[dict]:
    return archive.read_dataset(out, "articles").to_pylist()


def template_removals(out) -> list[str]:
    return [r["text"] for name in ("articles", "duplicates") for row in archive.read_dataset(out, name).to_pylist()
            for r in row["removed"] if r["rule"].split("@")[0] == templates.REPEAT_NAME]


@pytest.fixture
def single(tmp_path):
    write_fetch(tmp_path / "single", "story", BODY, URL, T0)
    run_local(tmp_path / "single", tmp_path / "single-out")
    [row] = articles(tmp_path / "single-out")
    return row["text"]


def test_a_page_fetched_ten_times_in_one_run_keeps_its_body(tmp_path, single):
    """Ten fetches of one page are one story: one article with the single fetch's text, nine
    re-fetch duplicates, and not one paragraph taken for site template."""
    raw = tmp_path / "raw"
    for k in range(10):
        write_fetch(raw, f"fetch{k}", edited(k), URL + ("" if k == 0 else f"?mirror={k}"), T0 + timedelta(hours=k))
    manifest = run_local(raw, tmp_path / "out")
    [row] = articles(tmp_path / "out")
    assert row["text"] == single and row["source_path"] == "fetch0.txt"
    assert manifest["counts"]["duplicates"] == 9
    assert template_removals(tmp_path / "out") == []


def test_nightly_refetches_of_one_story_never_add_up_to_template(tmp_path, single):
    """Paragraph counts carry over between runs: the same story fetched on ten nights is still
    one story, so its paragraphs never reach the template threshold."""
    out = tmp_path / "out"
    for k in range(10):
        write_fetch(tmp_path / f"night{k}", f"fetch{k}", edited(k), URL, T0 + timedelta(days=k))
        run_local(tmp_path / f"night{k}", out)
    [row] = articles(out)
    assert row["text"] == single
    dups = archive.read_dataset(out, "duplicates").to_pylist()
    assert len(dups) == 9 and {d["method"] for d in dups} == {"refetch"}
    assert template_removals(out) == []


APPEAL = ("The Herald is funded by its readers. Become a member today for $5 a month and support local, "
          "independent journalism in Port Ellis.")


def site_stories(raw, n: int, copies_of_first: int = 0) -> int:
    """``n`` different stories of one site, each closing with the same appeal, and extra
    fetches of the first; returns the number of pages written."""
    for i in range(n):
        paras = [f"Story {i}: " + BODY[i], BODY[(i + 3) % len(BODY)],
                 f"Item {i} closes with its own facts: {i * 7} people, {i + 2} boats, ward {i}.", APPEAL]
        for k in range(1 + (copies_of_first if i == 0 else 0)):
            write_fetch(raw, f"story{i}-{k}", paras, f"{URL}-{i}", T0 + timedelta(minutes=i, hours=k))
    return n + copies_of_first


def test_a_site_template_is_removed_from_distinct_stories(tmp_path):
    n = templates.REPEAT_MIN_STORIES
    site_stories(tmp_path / "raw", n)
    manifest = run_local(tmp_path / "raw", tmp_path / "out")
    rows = articles(tmp_path / "out")
    assert len(rows) == n and all(APPEAL not in r["text"] and r["text"].startswith("Story") for r in rows)
    assert manifest["removed_per_rule"][templates.REPEAT_RULE] == n


def test_copies_of_one_story_do_not_count_towards_a_template(tmp_path):
    """One story short of the threshold, with one of them fetched five more times: still
    one story short, and the appeal stays (it is a template only in eight different stories)."""
    pages = site_stories(tmp_path / "raw", templates.REPEAT_MIN_STORIES - 1, copies_of_first=5)
    manifest = run_local(tmp_path / "raw", tmp_path / "out")
    assert manifest["counts"]["articles"] + manifest["counts"]["duplicates"] == pages >= templates.REPEAT_MIN_STORIES
    assert all(APPEAL in r["text"] for r in articles(tmp_path / "out"))
    assert template_removals(tmp_path / "out") == []


def test_a_story_that_changed_is_a_new_version_and_search_finds_the_latest(tmp_path):
    """The same URL fetched with text that grew beyond a copy: a new article row with
    ``version`` 2 and ``version_of`` the first; audit shows the chain; search returns the latest."""
    out = tmp_path / "out"
    first = BODY[:3]
    write_fetch(tmp_path / "day1", "ferry", first, URL, T0)
    run_local(tmp_path / "day1", out)
    write_fetch(tmp_path / "day2", "ferry-again", first + BODY[3:], URL + "?utm_source=rss", T0 + timedelta(days=1))
    second = run_local(tmp_path / "day2", out)
    assert second["counts"] == {"articles": 1, "duplicates": 0, "rejects": 0}
    rows = {r["source_path"]: r for r in articles(out)}
    v1, v2 = rows["ferry.txt"], rows["ferry-again.txt"]
    assert (v1["version"], v1["version_of"]) == (1, None)
    assert (v2["version"], v2["version_of"]) == (2, v1["doc_id"])
    described = audit.describe(audit.lineage(out, v1["doc_id"]))
    assert f"version 1 of 2" in described and v2["doc_id"] in described
    assert [h.doc_id for h in search.search(out, "ferry terminal")] == [v2["doc_id"]]
    assert audit.verify(out, all_records=True).ok
