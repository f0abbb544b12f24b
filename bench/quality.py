"""Extraction quality on the fixture sets: token precision, recall and F1 per page and overall.

    python bench/quality.py [FIXTURE_DIR ...]

Each fixture is ``<slug>.txt`` (a raw text dump) with ``<slug>.expected.txt`` (the article
body a perfect cleaner keeps) and ``<slug>.meta.json`` (title…). Scores are bag-of-words over
lower-cased word tokens, the usual measure for boilerplate removal, micro-averaged over pages
(so long pages weigh more), beside the same score for the unfiltered dump as the baseline.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

from thresher.boilerplate import strip_boilerplate

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIRS = [ROOT / "tests/fixtures/dumps", ROOT / "tests/fixtures/dumps_intl"]
_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> Counter:
    return Counter(t.casefold() for t in _TOKEN.findall(text))


def overlap(pred: Counter, gold: Counter) -> tuple[int, int, int]:
    return sum((pred & gold).values()), sum(pred.values()), sum(gold.values())


def prf(tp: int, npred: int, ngold: int) -> tuple[float, float, float]:
    p = tp / npred if npred else 0.0
    r = tp / ngold if ngold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main(dirs: list[Path]) -> None:
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
            text = raw.read_text(encoding="utf-8")
            t0 = time.perf_counter()
            cleaned = strip_boilerplate(text)
            elapsed += time.perf_counter() - t0
            gold = tokens(gold_text)
            ours = overlap(tokens(cleaned.text), gold)
            base = overlap(tokens(text), gold)
            for key, o in (("thresher", ours), ("unfiltered", base)):
                totals[key] = [a + b for a, b in zip(totals[key], o)]
            title_ok = cleaned.meta.get("title") == meta.get("title")
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
    print(f"rules: {pages / elapsed:.0f} pages/s ({elapsed / pages * 1000:.2f} ms/page) on {pages} pages")


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]] or [d for d in DEFAULT_DIRS if d.is_dir()])
