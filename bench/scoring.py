"""The quality of each system's output on the benchmark corpus: extraction and dedup.

Every system's output is read back page by page (``outputs_*``): the text it kept for the page
(an empty text for a page it rejected or lost) and the cluster it put the page in (pages a
system calls copies of one another share a cluster). Then, against the corpus's truth
(bench/corpus.py):

* **extraction F1**: scrapinghub's shingle metric (bench/devsets.py) of each page's text
  against its dev page's gold body, over the pages whose dev page is in the test split,
  separately for HTML pages and text dumps;
* **dedup pairs**: every two pages of one dev page are a true pair; a system's pairs are every
  two pages of one of its clusters. Precision, recall and F1 of its pairs. Some dev pages are
  copies of one another already (Readability's test pages share one Lorem-ipsum body; a few
  articles are in two sets): dev pages whose gold bodies are near-identical (Jaccard of their
  word 5-gram sets at least :data:`SAME_BODY`, computed from the golds alone, so the same for
  every system) are one group.

A page is found in an output by its path (loose files, text dumps) or its WARC-Record-ID.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from devsets import PageScore, load_pages, score_set, shingle_counts

Outputs = dict[str, tuple[str, str]]  # page key -> (text, cluster id)
SAME_BODY = 0.8  # gold bodies this alike make their dev pages one group of copies
_COMMON = 50  # a shingle in more golds than this is boilerplate of the sets, not evidence


def page_key(page: dict, form: str) -> str:
    """How a page of the truth is found in an output of this form of the corpus."""
    return page["path"] if form == "files" or page["dump"] else page["record_id"]


def outputs_thresher(out: Path) -> Outputs:
    """Articles and duplicates: a duplicate's cluster is the record it duplicates."""
    import pyarrow.dataset as ds

    found: Outputs = {}
    for name in ("articles", "duplicates"):
        if not (out / name).is_dir():
            continue
        cols = ["doc_id", "source_path", "warc_record_id", "text"] + (["duplicate_of"] if name == "duplicates" else [])
        for row in ds.dataset(out / name, format="parquet").to_table(columns=cols).to_pylist():
            key = row["warc_record_id"] or row["source_path"]
            found[key] = (row["text"] or "", row.get("duplicate_of") or row["doc_id"])
    return found


def outputs_datatrove(out: Path) -> Outputs:
    """Kept documents and the ones its MinHash filter removed (its exclusion writer), each with
    the cluster id its cluster stage gave (-1: in no cluster)."""
    import pyarrow.dataset as ds

    found: Outputs = {}
    for name in ("documents", "removed"):
        if not (out / name).is_dir():
            continue
        for row in ds.dataset(out / name, format="parquet").to_table(columns=["id", "text", "metadata"]).to_pylist():
            cluster = (row["metadata"] or {}).get("minhash_cluster_id")
            found[row["id"]] = (row["text"] or "", f"c{cluster}" if cluster is not None and cluster >= 0 else row["id"])
    return found


def outputs_jsonl(path: Path) -> Outputs:
    """trafilatura alone: a text per page, no dedup (every page its own cluster)."""
    found: Outputs = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            found[row["id"]] = (row["text"] or "", row["id"])
    return found


class Truth:
    """The corpus's pages with their groups, and the gold shingles of the test split's dev pages."""

    def __init__(self, corpus: dict) -> None:
        self.pages = corpus["truth"]
        wanted = {p["group"] for p in self.pages if p["split"] == "test"}
        dev = load_pages()
        self.gold = {d.key: shingle_counts(d.gold) for d in dev if d.key in wanted}
        self.family = same_body_families({d.key: d.gold for d in dev})

    def quality(self, outputs: Outputs, form: str, dedup: bool = True, dumps: bool = True) -> dict:
        """Extraction F1 (HTML pages, text dumps) on the test split, and dedup pair P/R/F1."""
        scores: dict[bool, list[PageScore]] = {False: [], True: []}
        for page in self.pages:
            if page["group"] in self.gold and (dumps or not page["dump"]):
                text = outputs.get(page_key(page, form), ("", ""))[0]
                scores[page["dump"]].append(_score(self.gold[page["group"]], shingle_counts(text)))
        result = {"f1_html": score_set(scores[False]).f1 if scores[False] else None,
                  "f1_dumps": score_set(scores[True]).f1 if scores[True] else None,
                  "scored": len(scores[False]) + len(scores[True])}
        if dedup:
            result.update(self.pairs(outputs, form))
        return result

    def pairs(self, outputs: Outputs, form: str) -> dict:
        """Pair precision, recall and F1 of the system's clusters against the dev-page groups
        (pages missing from the output are clusters of one)."""
        cells: Counter = Counter()
        clusters: Counter = Counter()
        groups: Counter = Counter()
        for page in self.pages:
            key = page_key(page, form)
            cluster = outputs[key][1] if key in outputs else f"missing:{key}"
            group = self.family.get(page["group"], page["group"])
            cells[cluster, group] += 1
            clusters[cluster] += 1
            groups[group] += 1
        tp = sum(n * (n - 1) // 2 for n in cells.values())
        predicted = sum(n * (n - 1) // 2 for n in clusters.values())
        true = sum(n * (n - 1) // 2 for n in groups.values())
        p = tp / predicted if predicted else 1.0
        r = tp / true if true else 1.0
        return {"dedup_p": p, "dedup_r": r, "dedup_f1": 2 * p * r / (p + r) if p + r else 0.0,
                "true_pairs": true, "found_pairs": predicted}


def same_body_families(golds: dict[str, str]) -> dict[str, str]:
    """Dev page key -> the key standing for its family of near-identical gold bodies (pages in
    no family are left out). Candidates share a word 5-gram that is in at most ``_COMMON``
    golds; a pair joins when the Jaccard of their 5-gram sets is at least :data:`SAME_BODY`."""
    sets = {key: {hash(s) for s in shingle_counts(gold, 5)} for key, gold in golds.items() if gold.strip()}
    postings: dict[int, list[str]] = {}
    for key, shingles in sets.items():
        for s in shingles:
            postings.setdefault(s, []).append(key)
    parent = {key: key for key in sets}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    shared: Counter = Counter()
    for keys in postings.values():
        if 1 < len(keys) <= _COMMON:
            for i, a in enumerate(keys):
                for b in keys[i + 1:]:
                    shared[a, b] += 1
    for (a, b), n in shared.items():
        if n / (len(sets[a]) + len(sets[b]) - n) >= SAME_BODY:
            parent[root(a)] = root(b)
    families: dict[str, list[str]] = {}
    for key in sets:
        families.setdefault(root(key), []).append(key)
    return {key: min(keys) for keys in families.values() if len(keys) > 1 for key in keys}


def _score(gold: Counter, predicted: Counter) -> PageScore:
    """scrapinghub's shingle matching of one page (bench/devsets.py's score_page, with the gold
    shingles counted once per dev page instead of once per copy)."""
    tp = fp = fn = 0
    for key in gold.keys() | predicted.keys():
        a, b = gold.get(key, 0), predicted.get(key, 0)
        tp += min(a, b)
        fp += max(0, b - a)
        fn += max(0, a - b)
    total = tp + fp + fn
    return PageScore(tp / total, fp / total, fn / total) if total else PageScore(0.0, 0.0, 0.0)
