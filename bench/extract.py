"""HTML extraction on real pages with gold bodies, thresher beside the peers, in one run.

    python bench/extract.py                 # what `make bench-extract` runs: both splits
    python bench/extract.py --split test    # the figures the README quotes
    python bench/extract.py --limit 50      # a quick look (first 50 pages of each set)

For every dev set of ``../shared/extraction-dev`` (:mod:`bench.devsets`) and each split:
precision, recall and F1 on the scrapinghub article-extraction-benchmark metric (4-token
shingles of ``\\w+`` tokens, each page weighing the same), the share of pages with F1 under
0.5, and pages per second on one core, for thresher's HTML extract stage and for
trafilatura (default, favor_precision, favor_recall), readability-lxml and jusText, each
called on the page's bytes as a user would (:mod:`bench.peers`). Everything is computed
live: nothing is cached between runs.

thresher is scored on what its extract stage takes from the page's body: the headline block
it moved into ``title`` (logged under the ``headline`` rule; the gold bodies include it)
followed by ``text``. A page thresher rejects scores as an empty text, as a peer's failure does.

Then the issue's bars, checked on the test split of each set: F1 at least 0.02 above the
better of trafilatura's best setting and readability-lxml (on ``readability``, whose gold is
Readability.js's own output: within 0.01 of readability-lxml), precision at least theirs, and
no page under F1 0.2 where one of them scores over 0.8; and thresher's pages/s against
trafilatura default's. Timings on a busy machine are rough: the ratio is what to read.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.devsets import PageScore, SetScore, absent_message, by_set, devsets_root, load_pages, score_page, score_set  # noqa: E402
from bench.peers import PEERS, run_peer  # noqa: E402
from thresher.rules import REGISTRY  # noqa: E402
from thresher.config import Config  # noqa: E402
from thresher.extract import extract_html  # noqa: E402
from thresher.records import Reject  # noqa: E402

THRESHER = "thresher"
SYSTEMS = (THRESHER, *PEERS)
TRAFILATURA_SETTINGS = ("trafilatura", "trafilatura precision", "trafilatura recall")
MARGIN = 0.02  # F1 above the better peer on every set...
MATCH = 0.01  # ...except `readability`, whose gold is Readability.js's output: match it within this
CATASTROPHE = (0.2, 0.8)  # no page under the first F1 where a peer scores over the second


def thresher_text(data: bytes, url: str | None, cfg: Config) -> str:
    """What thresher publishes from the page, as the gold bodies count it: the headline it
    moved from the body into ``title``, then ``text``; empty for a reject."""
    out = extract_html(data, cfg, url=url)
    if isinstance(out, Reject):
        return ""
    ex, _ = out
    headline = REGISTRY["headline"].qualified
    moved = next((r.text for r in ex.removed if r.rule == headline), None)
    return f"{moved}\n{ex.text}" if moved else ex.text


def run_system(name: str, pages: list, cfg: Config) -> tuple[list[str], list[float]]:
    """Every page's text from one system, and the CPU seconds each took (this process, one core;
    after one untimed page, so that what a process does once is not counted as pages/s)."""
    if name == THRESHER:
        fn: Callable[[bytes, str | None], str] = lambda data, url: thresher_text(data, url, cfg)  # noqa: E731
    else:
        fn = lambda data, url: run_peer(name, data)  # noqa: E731
    texts, spent = [], []
    if pages:  # one page untimed first: imports and model loading are not pages/s
        fn(pages[0].html(), pages[0].url)
    for page in pages:
        data = page.html()
        t0 = time.process_time()
        texts.append(fn(data, page.url))
        spent.append(time.process_time() - t0)
    return texts, spent


def check_bars(name: str, per: dict[str, list[PageScore]], sets: dict[str, SetScore]) -> list[str]:
    """The issue's quality bars for one set's test split, each line saying held or not."""
    ours = sets[THRESHER]
    best_traf = max(TRAFILATURA_SETTINGS, key=lambda s: sets[s].f1)
    rivals = (best_traf, "readability-lxml")
    rival = max(rivals, key=lambda s: sets[s].f1)
    lines = []
    if name == "readability":
        ok = ours.f1 >= sets["readability-lxml"].f1 - MATCH
        lines.append(f"F1 {ours.f1:.3f} within {MATCH} of readability-lxml's {sets['readability-lxml'].f1:.3f}: {'holds' if ok else 'FAILS'}")
    else:
        ok = ours.f1 >= sets[rival].f1 + MARGIN
        lines.append(f"F1 {ours.f1:.3f} >= {rival} {sets[rival].f1:.3f} + {MARGIN}: {'holds' if ok else 'FAILS'} ({ours.f1 - sets[rival].f1:+.3f})")
    top_p = max(sets[s].precision for s in rivals)
    lines.append(f"precision {ours.precision:.3f} >= {top_p:.3f}: {'holds' if ours.precision >= top_p else 'FAILS'}")
    low, high = CATASTROPHE
    bad = [i for i, s in enumerate(per[THRESHER]) if s.f1 < low and any(per[r][i].f1 > high for r in rivals)]
    lines.append(f"pages under F1 {low} where {' or '.join(rivals)} is over {high}: {len(bad)}" + ("" if bad else " (holds)"))
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("train", "test", "both"), default="both")
    ap.add_argument("--limit", type=int, default=0, help="only the first N pages of each set (a quick look)")
    ap.add_argument("--pages", action="store_true", help="list thresher's pages under F1 0.5 on the test split")
    args = ap.parse_args()
    if devsets_root() is None:
        print(f"bench-extract: {absent_message()}")
        return 0
    splits = ("train", "test") if args.split == "both" else (args.split,)
    cfg = Config()
    pages = [p for p in load_pages() if p.split in splits]
    if args.limit:
        pages = [p for _, group in by_set(pages) for p in group[: args.limit]]
    texts, seconds = {}, {}
    for name in SYSTEMS:
        texts[name], seconds[name] = run_system(name, pages, cfg)
        print(f"  ran {name:22} {len(pages)} pages in {sum(seconds[name]):.0f} s CPU", file=sys.stderr)
    index = {p.key: i for i, p in enumerate(pages)}
    print("| set | split | pages | system | precision | recall | F1 | F1<0.5 | pages/s |")
    print("|---|---|---:|---|---:|---:|---:|---:|---:|")
    bars: list[str] = []
    for name, group in by_set(pages):
        for split in splits:
            part = [p for p in group if p.split == split]
            if not part:
                continue
            per = {s: [score_page(p.gold, texts[s][index[p.key]]) for p in part] for s in SYSTEMS}
            sets = {s: score_set(per[s]) for s in SYSTEMS}
            for s in SYSTEMS:
                r = sets[s]
                cpu = sum(seconds[s][index[p.key]] for p in part)
                rate = len(part) / cpu if cpu else float("inf")
                print(f"| {name} | {split} | {r.pages} | {s} | {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} | {r.under_half:.1%} | {rate:.1f} |")
            if split == "test":
                bars.append(f"{name} (test, {len(part)} pages):")
                bars.extend(f"  {line}" for line in check_bars(name, per, sets))
                if args.pages:
                    for p, sc in zip(part, per[THRESHER]):
                        if sc.f1 < 0.5:
                            bars.append(f"    F1 {sc.f1:.2f}  {p.key}")
    ours, traf = sum(seconds[THRESHER]), sum(seconds["trafilatura"])
    print()
    print(f"speed, all {len(pages)} pages: thresher {len(pages) / ours:.1f} pages/s, trafilatura default "
          f"{len(pages) / traf:.1f} pages/s: {traf / ours:.2f}x (bar: at least 0.8x; CPU time of one process)")
    if bars:
        print()
        print("bars on the test split:")
        print("\n".join(bars))
    return 0


if __name__ == "__main__":
    sys.exit(main())
