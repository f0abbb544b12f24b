"""Extraction quality and speed on the fixture sets, beside the baselines.

    python -m bench.quality            # what `make bench-quality` runs (with bench.quality_dumps)
    python -m bench.quality --pages    # also one line per page

Text dumps (``tests/fixtures/dumps*``): ``<slug>.txt`` with ``<slug>.expected.txt`` (the body a
perfect cleaner keeps) and ``<slug>.meta.json`` (title). Baselines: the rules without the line
model, and the unfiltered dump. The real dev pages' dumps: ``bench/quality_dumps.py``.
HTML pages (``tests/fixtures/html``): ``<slug>.html`` with the same two files. Baselines:
trafilatura alone, with default options and with its best setting (favor_precision, no
comments), on the same bytes in the same process.

Scores are micro-averaged precision/recall/F1 over word tokens (dumps) and over 4-token
shingles (HTML, as article-extraction benchmarks score). Speed is measured on a second, warm
pass (lazy imports, models and locales loaded once per worker, as in a long run) and printed
as pages per second on one core with the ratio to the baseline.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from thresher.rules.predicates import clear_caches
from thresher.config import Config
from thresher.dates import parse_date
from bench.devsets import overlap, prf, tokens
from thresher.text import shingles
from thresher.extract import extract_html
from thresher.extract import clean_dump
from thresher.rules import strip_boilerplate

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
DUMP_SETS = {
    "tuned": [FIX / "dumps", FIX / "dumps_intl"],
    "held-out (tuned after first score)": [FIX / "dumps_holdout"],
    "blind": [FIX / "dumps_blind"],
}


def _fixtures(dirs: list[Path], suffix: str) -> list[Path]:
    return [p for d in dirs if d.is_dir() for p in sorted(d.glob(f"*{suffix}")) if not p.name.endswith(".expected.txt")]


def _gold(page: Path, suffix: str) -> tuple[str, dict]:
    stem = page.name[: -len(suffix)]
    gold = (page.parent / f"{stem}.expected.txt").read_text(encoding="utf-8")
    meta = json.loads((page.parent / f"{stem}.meta.json").read_text(encoding="utf-8"))
    return gold, meta


def _add(total: list[int], o: tuple[int, int, int]) -> None:
    for i, v in enumerate(o):
        total[i] += v


def _line(name: str, total: list[int]) -> str:
    p, r, f = prf(*total)
    return f"  {name:34} precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}"


def _warm_rate(fn, items, repeats: int = 3) -> float:
    """Pages per second, best of ``repeats`` passes (the machine's noise only ever slows a pass)."""
    best = float("inf")
    for _ in range(repeats):
        parse_date.cache_clear()  # memos would make a later pass see every line and date again
        clear_caches()
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        best = min(best, time.perf_counter() - t0)
    return len(items) / best


def bench_dumps(name: str, dirs: list[Path], cfg: Config, per_page: bool) -> None:
    pages = _fixtures(dirs, ".txt")
    if not pages:
        return
    ours, rules, raw, titles = [0, 0, 0], [0, 0, 0], [0, 0, 0], 0
    for page in pages:
        gold, meta = _gold(page, ".txt")
        data = page.read_bytes()
        out = clean_dump(data, cfg)
        o = overlap(tokens(out.text), tokens(gold))
        _add(ours, o)
        _add(rules, overlap(tokens(strip_boilerplate(data.decode("utf-8"), cfg.rules, cfg.patterns).text), tokens(gold)))
        _add(raw, overlap(tokens(data.decode("utf-8")), tokens(gold)))
        titles += out.title == meta.get("title")
        if per_page:
            print(f"    {page.parent.name}/{page.stem:40} F1 {prf(*o)[2]:.3f}  title {'ok' if out.title == meta.get('title') else 'WRONG'}")
    blobs = [p.read_bytes() for p in pages]
    rate = _warm_rate(lambda b: clean_dump(b, cfg), blobs)
    print(f"text dumps, {name}: {len(pages)} pages (word tokens)")
    print(_line("thresher (rules + line model)", ours))
    print(_line("rules alone", rules))
    print(_line("unfiltered dump", raw))
    print(f"  titles right {titles}/{len(pages)}; {rate:.0f} pages/s warm on one core")


def bench_html(cfg: Config, per_page: bool) -> None:
    import trafilatura

    pages = _fixtures([FIX / "html"], ".html")
    if not pages:
        return
    systems = {
        "thresher": lambda b: extract_html(b, cfg)[0].text,
        "trafilatura default": lambda b: trafilatura.extract(b, deduplicate=False) or "",
        "trafilatura favor_precision": lambda b: trafilatura.extract(
            b, favor_precision=True, include_comments=False, deduplicate=False) or "",
    }
    totals = {k: [0, 0, 0] for k in systems}
    blobs = [p.read_bytes() for p in pages]
    fields = {"title": 0, "authors": 0, "published": 0, "site_name": 0, "canonical_url": 0, "language": 0}
    for page, blob in zip(pages, blobs):
        gold_text, meta = _gold(page, ".html")
        ex, found = extract_html(blob, cfg)
        got = {"title": ex.title, "authors": list(ex.authors), "site_name": found.site_name,
               "canonical_url": found.canonical_url, "language": ex.language,
               # fixtures give the local calendar date; thresher stores UTC, so allow a day's offset
               "published": ex.published_at[:10] if ex.published_at else None}
        for key in fields:
            want = meta.get(key)
            if key == "published" and want and got[key]:
                fields[key] += abs(int(got[key].replace("-", "")) - int(want.replace("-", ""))) <= 1 or got[key][:8] == want[:8] and abs(int(got[key][8:]) - int(want[8:])) <= 1
            else:
                fields[key] += got[key] == (want[:2] if key == "language" else want)
        gold = shingles(gold_text)
        scores = {}
        for key, fn in systems.items():
            o = overlap(shingles(fn(blob)), gold)
            _add(totals[key], o)
            scores[key] = prf(*o)[2]
        if per_page:
            print(f"    {page.stem:40} " + "  ".join(f"{k.split()[-1]} {v:.3f}" for k, v in scores.items()))
    print(f"HTML pages: {len(pages)} pages (4-token shingles)")
    for key, total in totals.items():
        print(_line(key, total))
    print("  metadata right: " + ", ".join(f"{k} {v}/{len(pages)}" for k, v in fields.items()))
    rates = {key: _warm_rate(fn, blobs) for key, fn in systems.items()}
    base = rates["thresher"]
    print("  speed, warm, one core: " + ", ".join(f"{k} {v:.0f} pages/s" for k, v in rates.items()))
    print(f"  thresher / trafilatura default {base / rates['trafilatura default']:.2f}x, "
          f"thresher / trafilatura favor_precision {base / rates['trafilatura favor_precision']:.2f}x")


def main(argv: list[str]) -> None:
    cfg = Config()
    per_page = "--pages" in argv
    for name, dirs in DUMP_SETS.items():
        bench_dumps(name, dirs, cfg, per_page)
    bench_html(cfg, per_page)


if __name__ == "__main__":
    main(sys.argv[1:])
