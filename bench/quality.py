"""Extraction quality on the fixture sets: token precision, recall and F1 per page and overall.

    python bench/quality.py [FIXTURE_DIR ...]

Each fixture is ``<slug>.txt`` (a raw text dump) with ``<slug>.expected.txt`` (the article
body a perfect cleaner keeps) and ``<slug>.meta.json`` (title…). Scores are bag-of-words over
lower-cased word tokens, the usual measure for boilerplate removal, micro-averaged over pages
(so long pages weigh more), beside the same score for the unfiltered dump as the baseline.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from thresher.config import Config
from thresher.dates import parse_date
from thresher.evaluate import overlap, prf, tokens
from thresher.textdump import clean_dump

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIRS = [ROOT / "tests/fixtures/dumps", ROOT / "tests/fixtures/dumps_intl"]


def main(dirs: list[Path]) -> None:
    cfg = Config()
    totals = {"thresher": [0, 0, 0], "unfiltered": [0, 0, 0]}
    titles_ok = pages = 0
    elapsed = 0.0
    print(f"{'page':38} {'P':>6} {'R':>6} {'F1':>6}  {'raw F1':>6}  title")
    for d in dirs:
        for raw in sorted(d.glob("*.txt")):
            if raw.name.endswith(".expected.txt"):
                continue
            slug = raw.name[: -len(".txt")]
            gold_text = (d / f"{slug}.expected.txt").read_text(encoding="utf-8")
            meta = json.loads((d / f"{slug}.meta.json").read_text(encoding="utf-8"))
            data = raw.read_bytes()
            text = data.decode("utf-8")
            t0 = time.perf_counter()
            cleaned = clean_dump(data, cfg)
            elapsed += time.perf_counter() - t0
            gold = tokens(gold_text)
            ours = overlap(tokens(cleaned.text), gold)
            base = overlap(tokens(text), gold)
            for key, o in (("thresher", ours), ("unfiltered", base)):
                totals[key] = [a + b for a, b in zip(totals[key], o)]
            title_ok = cleaned.title == meta.get("title")
            titles_ok += title_ok
            pages += 1
            p, r, f = prf(*ours)
            print(f"{d.name + '/' + slug:38} {p:6.3f} {r:6.3f} {f:6.3f}  {prf(*base)[2]:6.3f}  {'ok' if title_ok else 'WRONG'}")
    print()
    for key, (tp, npred, ngold) in totals.items():
        p, r, f = prf(tp, npred, ngold)
        print(f"{key:12} precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}")
    f_ours = prf(*totals["thresher"])[2]
    f_base = prf(*totals["unfiltered"])[2]
    print(f"F1 ratio thresher / unfiltered: {f_ours / f_base:.2f}x   titles right: {titles_ok}/{pages}")
    # Speed: the pass above was cold (lazy imports, language model, dateparser locales); a
    # long run pays that once, so the steady state is a second pass with the date memo cleared.
    parse_date.cache_clear()
    blobs = [raw.read_bytes() for d in dirs for raw in sorted(d.glob("*.txt")) if not raw.name.endswith(".expected.txt")]
    t0 = time.perf_counter()
    for data in blobs:
        clean_dump(data, cfg)
    warm = time.perf_counter() - t0
    print(f"clean_dump (decode, rules, language, dates) on {pages} pages: cold {elapsed / pages * 1000:.1f} ms/page, "
          f"warm {warm / pages * 1000:.2f} ms/page = {pages / warm:.0f} pages/s on one core")


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]] or [d for d in DEFAULT_DIRS if d.is_dir()])
