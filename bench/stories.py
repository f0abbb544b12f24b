"""Story clusters: quality on the labelled real-article set, speed and memory at scale.

    python bench/stories.py --labelled          # pair precision / recall on tests/fixtures/stories
    python bench/stories.py 10000 100000        # articles/s and peak memory, synthetic archive

**Labelled set** (tests/fixtures/stories/labels.json, see its README): 19 same-event groups
(the five sample pages and 18 groups of real 2012 news pages from ../shared/extraction-dev)
and 15 groups of hard negatives. Every news and blog page of the dev sets (dragnet_data and
CleanPortalEval, 1,448 pages) is clustered together, so the labelled pages must find each
other among about 1,400 distractors of the same weeks. Text is the human-made gold body
(what a perfect extractor would keep), the site is the page's own (og:site_name, else the
URL's host), the date the labelled one (else the page's). Printed per threshold: pair
precision and recall over the labelled pages (a hard negative page not in a group is a group
of its own), hard-negative pairs merged, and pairs merged among the unlabelled pages (a
proxy for false merges: most of them cover different events). The threshold is then chosen
by leave-one-group-out cross-validation: for each labelled group, the threshold with the best
F1 and no hard negative merged on the *other* groups decides that group's pairs.

**Scale**: N synthetic articles over 60 days (see :func:`synthetic`), vectors computed in 2
worker processes as the shards of a run would, then placed in stories by
:func:`thresher.stories.clusters.assign` in one process. Printed: articles/s for each step
and overall, and peak memory (max RSS of the parent, and of the largest worker).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import re
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.devsets import absent_message, devsets_root  # noqa: E402
from thresher.stories import clusters  # noqa: E402
from thresher.stories.features import story_vector  # noqa: E402

LABELS = ROOT / "tests" / "fixtures" / "stories" / "labels.json"
SEEDS = ROOT / "tests" / "fixtures" / "seeds"
NEWS_SETS = ("dragnet_data", "CleanPortalEval-master")
THRESHOLDS = (0.13, 0.15, 0.17, 0.19, 0.21, 0.23, 0.25, 0.28)


# --------------------------------------------------------------------------- labelled set


def _stamp(day: str) -> float:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=timezone.utc).timestamp()


_CONFIG: list = []


def _patterns():
    from thresher.config import Config

    if not _CONFIG:
        _CONFIG.append(Config())
    return _CONFIG[0].patterns


def _page_facts(html: bytes) -> tuple[str | None, float | None]:
    """Site name and publication time as thresher reads them from a page's markup."""
    from thresher.extract.html import parse_tree, sniff_charset
    from thresher.extract.meta import read_meta
    from thresher.records import Reject
    from thresher.sources.decode import decode_bytes
    from thresher.urls import url_host

    decoded = decode_bytes(html, declared=sniff_charset(html))
    tree = None if isinstance(decoded, Reject) else parse_tree(decoded.text)
    if tree is None:
        return None, None
    meta = read_meta(tree, _patterns())
    when = None
    if meta.published:
        try:
            when = datetime.fromisoformat(meta.published.replace("Z", "+00:00")).timestamp()
        except ValueError:
            when = None
    return meta.site_name or url_host(meta.canonical_url), when


def labelled_corpus(root: Path | None = None) -> tuple[list[dict], dict]:
    """Every article of the labelled evaluation: the seeds and the news dev pages (gold text),
    as dicts of key, text, site, time, language. Empty when the dev pages are absent."""
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    root = root or devsets_root()
    if root is None:
        return [], labels
    articles = []
    for path in sorted(SEEDS.glob("*.expected.txt")):
        key = "seeds/" + path.name.split(".")[0]
        articles.append({"key": key, "text": path.read_text(encoding="utf-8"), "site": None,
                         "time": _stamp(labels["published"][key]), "language": "en"})
    for name in NEWS_SETS:
        gold = json.loads((root / name / "gold.json").read_text(encoding="utf-8"))
        for page_id in sorted(gold):
            body = (gold[page_id].get("articleBody") or "").strip()
            page = root / name / f"{page_id}.html.gz"
            if not body or not page.is_file():
                continue
            key = f"{name}/{page_id}"
            site, when = _page_facts(gzip.decompress(page.read_bytes()))
            if key in labels["published"]:
                when = _stamp(labels["published"][key])
            articles.append({"key": key, "text": body, "site": site, "time": when or 0.0, "language": "en"})
    return articles, labels


def gold_of(labels: dict) -> dict[str, str]:
    """The labelled pages and their group: a same-event group, else the page alone."""
    gold = {m: m for g in labels["hard_negatives"] for m in g["members"]}
    gold.update({m: g["id"] for g in labels["same_event"] for m in g["members"]})
    return gold


def pair_counts(assigned: dict[str, str], gold: dict[str, str], keys: set[str] | None = None) -> tuple[int, int, int]:
    """(true positive, false positive, false negative) pairs among the labelled pages; with
    ``keys``, only pairs with at least one page in ``keys``."""
    tp = fp = fn = 0
    for a, b in itertools.combinations(sorted(gold), 2):
        if keys is not None and a not in keys and b not in keys:
            continue
        same, truth = assigned[a] == assigned[b], gold[a] == gold[b]
        tp += same and truth
        fp += same and not truth
        fn += truth and not same
    return tp, fp, fn


def negatives_merged(assigned: dict[str, str], labels: dict, groups: list[dict] | None = None) -> list[tuple[str, str, str]]:
    out = []
    for g in groups if groups is not None else labels["hard_negatives"]:
        out += [(g["id"], a, b) for a, b in itertools.combinations(g["members"], 2) if assigned[a] == assigned[b]]
    return out


def unlabelled_pairs(assigned: dict[str, str], gold: dict[str, str]) -> int:
    by_story: dict[str, list[str]] = {}
    for key, sid in assigned.items():
        by_story.setdefault(sid, []).append(key)
    total = 0
    for keys in by_story.values():
        u = sum(1 for k in keys if k not in gold)
        total += u * (u - 1) // 2 + u * (len(keys) - u)
    return total


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def evaluate(articles: list[dict], labels: dict, thresholds=THRESHOLDS) -> dict:
    """Cluster the whole corpus at each threshold; score; choose the threshold by
    leave-one-group-out cross-validation."""
    vectors = {a["key"]: story_vector(None, a["text"], a["language"]) for a in articles}
    cands = [clusters.Candidate(a["key"], a["time"], vectors[a["key"]], a["site"]) for a in articles]
    gold = gold_of(labels)
    runs = {th: clusters.assign(cands, [], threshold=th) for th in thresholds}
    rows = []
    for th, assigned in runs.items():
        tp, fp, fn = pair_counts(assigned, gold)
        rows.append({"threshold": th, "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
                     "f1": _f1(tp, fp, fn), "negatives_merged": len(negatives_merged(assigned, labels)),
                     "unlabelled_pairs": unlabelled_pairs(assigned, gold)})
    # Leave one group out: each same-event or hard-negative group is scored at the threshold
    # chosen on all the other groups (best F1 with no hard negative merged, then the higher).
    groups = [("same", g) for g in labels["same_event"]] + [("neg", g) for g in labels["hard_negatives"]]
    cv_tp = cv_fp = cv_fn = 0
    cv_neg = 0
    chosen = []
    for kind, held in groups:
        held_keys = set(held["members"])
        others_same = [g for g in labels["same_event"] if g is not held]
        others_neg = [g for g in labels["hard_negatives"] if g is not held]
        train_gold = {m: m for g in others_neg for m in g["members"] if m not in held_keys}
        train_gold.update({m: g["id"] for g in others_same for m in g["members"] if m not in held_keys})

        def train_score(th: float) -> tuple:
            tp, fp, fn = pair_counts(runs[th], train_gold)
            clean = not negatives_merged(runs[th], labels, others_neg)
            return (clean, _f1(tp, fp, fn), th)

        best = max(thresholds, key=train_score)
        chosen.append(best)
        held_gold = {k: v for k, v in gold.items()}
        tp, fp, fn = pair_counts(runs[best], held_gold, keys=held_keys)
        cv_tp, cv_fp, cv_fn = cv_tp + tp, cv_fp + fp, cv_fn + fn
        if kind == "neg":
            cv_neg += len(negatives_merged(runs[best], labels, [held]))
    # Pairs touching two held-out groups are counted once per group: halve nothing, but
    # report the pooled counts as they are (each pair is scored when either side is held out).
    return {"rows": rows, "cv": {"precision": cv_tp / (cv_tp + cv_fp) if cv_tp + cv_fp else 1.0,
                                 "recall": cv_tp / (cv_tp + cv_fn) if cv_tp + cv_fn else 1.0,
                                 "negatives_merged": cv_neg, "thresholds": sorted(set(chosen)),
                                 "median_threshold": float(np.median(chosen))},
            "articles": len(articles), "labelled": len(gold)}


def print_labelled() -> None:
    articles, labels = labelled_corpus()
    if not articles:
        print(absent_message())
        return
    result = evaluate(articles, labels)
    print(f"labelled set: {result['labelled']} labelled pages among {result['articles']} articles "
          f"({len(labels['same_event'])} same-event groups, {len(labels['hard_negatives'])} hard-negative groups); "
          f"window {clusters.WINDOW_DAYS:g} days, same-site factor {clusters.SAME_SITE_FACTOR}, link top {clusters.LINK_TOP}")
    print(f"{'threshold':>9} {'precision':>9} {'recall':>7} {'F1':>6} {'neg merged':>10} {'unlabelled pairs':>16}")
    for r in result["rows"]:
        mark = "  <- JOIN_THRESHOLD" if abs(r["threshold"] - clusters.JOIN_THRESHOLD) < 1e-9 else ""
        print(f"{r['threshold']:>9.2f} {r['precision']:>9.3f} {r['recall']:>7.3f} {r['f1']:>6.3f} "
              f"{r['negatives_merged']:>10d} {r['unlabelled_pairs']:>16d}{mark}")
    cv = result["cv"]
    print(f"leave-one-group-out: precision {cv['precision']:.3f} recall {cv['recall']:.3f}, hard negatives merged "
          f"{cv['negatives_merged']}; thresholds chosen {cv['thresholds']} (median {cv['median_threshold']:.2f})")


# --------------------------------------------------------------------------- scale

DAYS = 60
_SYLLABLES = ("ka", "lo", "mi", "ra", "ven", "tor", "sel", "an", "dri", "bu", "ko", "vel", "mar", "is", "teo", "gan")


def _vocabulary() -> tuple[np.ndarray, np.ndarray]:
    """English words and their probabilities of use (wordfreq's list, the one the features
    weigh words by): the background vocabulary of the synthetic articles."""
    import wordfreq

    freqs = wordfreq.get_frequency_dict("en", "small")
    words = np.array([w for w in freqs if w.isalpha()])
    p = np.array([freqs[w] for w in words])
    return words, p / p.sum()


def _name(rng: np.random.Generator) -> str:
    return "".join(rng.choice(_SYLLABLES, size=int(rng.integers(3, 5)))).capitalize()


def synthetic(i: int, n: int, vocab: tuple[np.ndarray, np.ndarray]) -> tuple[str, str, float, str, int]:
    """Article ``i`` of ``n``: (title, text, time, site, event), made from the article and
    event numbers alone (so workers make them where they are vectorised).

    Events: most articles report an event alone, others an event covered by 2 to 8 sites
    (geometric sizes), spread over ``DAYS`` days; an event's articles appear within 2 days.
    An event has invented names (people, a place, an organisation), three numbers and eight
    topic words (drawn from English words of middling frequency); each article states some of
    its facts in its title and lead, and fills 150 to 600 words with sentences of English words
    drawn by their frequency of use (wordfreq), so articles of different events share everyday
    vocabulary in its real proportions, as real ones do, and little else. (Sentences of real
    prose were tried as filler: a small pool makes unrelated articles share whole sentences,
    which is syndication, not independent coverage.)"""
    event = i // 4  # blocks of 4 articles: the first `size` cover one event, the rest are alone
    rng_e = np.random.default_rng([11, event])
    size = int(min(8, rng_e.geometric(0.45)))
    if i % 4 >= size:
        event = n + i
        rng_e = np.random.default_rng([11, event])
    rng = np.random.default_rng([12, i])
    words, p = vocab
    names = [_name(rng_e) + " " + _name(rng_e) for _ in range(3)] + [_name(rng_e) for _ in range(2)]
    numbers = [f"{int(x):,}" for x in rng_e.integers(12, 5000, size=3)]
    topic = list(rng_e.choice(words[2000:12000], size=8, replace=False))
    start = float(rng_e.random() * DAYS * 86400)
    when = start + float(rng.random() * 2 * 86400)
    def salad(k: int) -> list[str]:
        return list(rng.choice(words, size=k, p=p))

    # The event's facts, each in a sentence of everyday words around its names and numbers:
    # no template shared by all events (that would be one outlet's boilerplate, not news).
    facts = [" ".join(salad(4) + [names[0]] + salad(3) + [numbers[0]] + salad(2) + [topic[0], topic[1], "in", names[3]]),
             " ".join(salad(3) + [names[4]] + salad(4) + [numbers[1], topic[2]] + salad(3) + [topic[3]]),
             " ".join([names[1], "and", names[2]] + salad(5) + [numbers[2], topic[4]] + salad(2) + [topic[5]]),
             " ".join(salad(6) + [topic[6], topic[7]] + salad(3) + [names[3]])]
    facts = [f[0].upper() + f[1:] + "." for f in facts]
    title = f"{names[int(rng.integers(0, 3))]}: {numbers[0]} {topic[0]} {topic[1]} in {names[3]}"
    body = [facts[j] for j in rng.permutation(4)[: int(rng.integers(2, 5))]]
    for _ in range(int(rng.integers(10, 24))):
        sentence = " ".join(rng.choice(words, size=int(rng.integers(12, 26)), p=p))
        body.append(sentence.capitalize() + ".")
    return title, "\n\n".join(body), when, f"site{int(rng.integers(0, 400))}.example", event


_VOCAB: list = []


def _vector_rows(args: tuple[int, int, int]) -> list[tuple]:
    lo, hi, n = args
    if not _VOCAB:
        _VOCAB.append(_vocabulary())
    out = []
    for i in range(lo, hi):
        title, text, when, site, event = synthetic(i, n, _VOCAB[0])
        v = story_vector(title, text, "en")
        out.append((f"d{i}", when, site, v.terms, v.weights, v.facts, event))
    return out


def _max_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def scale(n: int) -> dict:
    chunks = [(lo, min(n, lo + 2000), n) for lo in range(0, n, 2000)]
    t0 = time.perf_counter()
    rows = []
    with Pool(2) as pool:
        for part in pool.imap(_vector_rows, chunks):
            rows.extend(part)
    t1 = time.perf_counter()
    from thresher.stories.features import StoryVector

    cands = [clusters.Candidate(d, w, StoryVector(t, v, f), s) for d, w, s, t, v, f, _ in rows]
    events = {d: e for d, *_, e in rows}
    del rows
    assigned = clusters.assign(cands, [])
    t2 = time.perf_counter()
    # Pair precision / recall against the generated events (sanity: the scale corpus is easy).
    by_event: dict[int, list[str]] = {}
    for d, e in events.items():
        by_event.setdefault(e, []).append(d)
    tp = fn = 0
    for docs in by_event.values():
        for a, b in itertools.combinations(docs, 2):
            tp += assigned[a] == assigned[b]
            fn += assigned[a] != assigned[b]
    by_story: dict[str, list[str]] = {}
    for d, s in assigned.items():
        by_story.setdefault(s, []).append(d)
    pred = sum(len(v) * (len(v) - 1) // 2 for v in by_story.values())
    return {"n": n, "vectors_s": t1 - t0, "assign_s": t2 - t1, "total_s": t2 - t0,
            "precision": tp / pred if pred else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
            "parent_mb": _max_rss_mb(resource.RUSAGE_SELF), "worker_mb": _max_rss_mb(resource.RUSAGE_CHILDREN),
            "stories": len(by_story)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int)
    parser.add_argument("--labelled", action="store_true", help="score the labelled real-article set")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a single size, in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(scale(args.one)))
        return
    if args.labelled:
        print_labelled()
    if args.sizes:
        print(f"{'articles':>9} {'vectors/s':>10} {'assign/s':>9} {'total s':>8} {'articles/s':>10} "
              f"{'peak MB':>8} {'worker MB':>9} {'pair P':>7} {'pair R':>7}")
    for n in args.sizes:
        # each size in its own process: its peak memory is its own
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['n']:>9} {r['n'] / r['vectors_s']:>10.0f} {r['n'] / r['assign_s']:>9.0f} {r['total_s']:>8.1f} "
              f"{r['n'] / r['total_s']:>10.0f} {r['parent_mb']:>8.0f} {r['worker_mb']:>9.0f} {r['precision']:>7.3f} {r['recall']:>7.3f}")


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    main()
