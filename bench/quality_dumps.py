"""Text-dump quality on real pages: the dump versions of every dev set's test split, thresher
beside the rules alone, jusText and the unfiltered dump, in one table (``make bench-quality``).

    python -m bench.quality_dumps            # the table
    python -m bench.quality_dumps --pages    # also the 15 worst pages of each set for thresher

Each test page of ``../shared/extraction-dev`` is flattened as a scraper would flatten it
(:mod:`bench.dumpdata`) and cleaned as a ``.txt`` input. Scoring: scrapinghub's 4-token
shingle metric (:mod:`bench.devsets`), per page normalised, summed per set. Every system is
scored on **title + text**: the gold of Dragnet and CleanEval includes the headline, which
thresher moves to ``title``; jusText and the unfiltered dump keep it in their text. The
``labels`` row is the labelled body lines themselves: the ceiling of a line-level cleaner and
the accuracy of the labelling rule.

jusText (3.0.2, shipped with trafilatura) gets the dump as one ``<p>`` per line and the
stop-word list of the page's language (English when it has none), as a dump-only user would
run it. When the dev pages are absent, it says so and measures nothing.
"""

from __future__ import annotations

import html
import sys
from collections import defaultdict

from bench.devsets import SETS, absent_message, devsets_root, score_page, score_set
from bench.dumpdata import DumpPage, load_dumps
from thresher.config import Config
from thresher.extract import clean_dump
from thresher.extract.dumps import dump_lines
from thresher.extract.linefeatures import STOPLIST_NAMES
from thresher.records import Reject
from thresher.rules import strip_boilerplate


def thresher_text(page: DumpPage, cfg: Config) -> str:
    out = clean_dump(page.text.encode("utf-8"), cfg)
    return "" if isinstance(out, Reject) else f"{out.title or ''}\n{out.text}"


def rules_text(page: DumpPage, cfg: Config) -> str:
    cleaned = strip_boilerplate(page.text, cfg.rules, cfg.patterns)
    return f"{cleaned.meta.get('title') or ''}\n{cleaned.text}"


def justext_text(page: DumpPage, cfg: Config) -> str:
    import justext

    language = dump_lines(page.text, strip_boilerplate(page.text, ())).language
    stoplist = justext.get_stoplist(STOPLIST_NAMES.get(language or "", "English"))
    doc = "<html><body>" + "".join(f"<p>{html.escape(line)}</p>" for line in page.lines) + "</body></html>"
    return "\n".join(p.text for p in justext.justext(doc.encode("utf-8"), stoplist) if not p.is_boilerplate)


SYSTEMS = {
    "thresher (rules + line model)": thresher_text,
    "rules alone": rules_text,
    "jusText": justext_text,
    "unfiltered dump": lambda page, cfg: page.text,
    "labels (ceiling)": lambda page, cfg: "\n".join(t for t, y in zip(page.lines, page.labels) if y),
}


def measure(pages: list[DumpPage], cfg: Config) -> dict[str, dict[str, list]]:
    """Per set and system, the page scores (in page order)."""
    scores: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for page in pages:
        for name, fn in SYSTEMS.items():
            scores[page.dataset][name].append(score_page(page.gold, fn(page, cfg)))
    return scores


def main(argv: list[str]) -> int:
    if devsets_root() is None:
        print("text dumps of the dev sets: " + absent_message())
        return 0
    cfg = Config()
    pages = load_dumps(split="test")
    scores = measure(pages, cfg)
    print("Text dumps of the dev sets' test split (pages flattened as a scraper does), scored on title + text,")
    print("4-token shingles (scrapinghub), per-page normalised; 'bad' = pages with F1 under 0.5")
    print(f"| {'set':22} | pages | {'system':30} | precision | recall |   F1  |  bad  |")
    print(f"|{'-' * 24}|-------|{'-' * 32}|-----------|--------|-------|-------|")
    for name in SETS:
        if name not in scores:
            continue
        for system, page_scores in scores[name].items():
            s = score_set(page_scores)
            print(f"| {name:22} | {s.pages:5} | {system:30} |     {s.precision:.3f} |  {s.recall:.3f} | {s.f1:.3f} | {s.under_half:.3f} |")
    if "--pages" in argv:
        by_key = [p for p in pages]
        for name in SETS:
            mine = [(s.f1, p.key) for p, s in zip([p for p in by_key if p.dataset == name],
                                                  scores[name]["thresher (rules + line model)"]) if name in scores]
            for f1, key in sorted(mine)[:15]:
                print(f"  {key:40} F1 {f1:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
