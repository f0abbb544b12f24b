"""Extraction quality of datatrove's Trafilatura step beside thresher's, on the HTML fixtures.

    .venv/bin/python bench/datatrove_quality.py

The pages and scoring are bench/quality.py's (``tests/fixtures/html``, 4-token shingles,
micro-averaged precision/recall/F1 against each page's expected body). datatrove's text comes
from its own ``Trafilatura`` step (trafilatura 1.11.0, its pin) run in ``.venv-datatrove`` by
``bench/datatrove_pipeline.py --extract``: once with the step's defaults, once with
``deduplicate=False`` as the throughput benchmark runs it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality import FIX, _add, _fixtures, _gold, _line  # noqa: E402  (bench/quality.py's scoring)
from thresher.config import Config  # noqa: E402
from bench.devsets import overlap, prf  # noqa
from thresher.text import shingles  # noqa: E402
from thresher.extract import extract_html  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATATROVE_PYTHON = ROOT / ".venv-datatrove" / "bin" / "python"


def datatrove_texts(pages: list[Path]) -> dict[str, dict[str, str]]:
    out = subprocess.run([str(DATATROVE_PYTHON), str(ROOT / "bench" / "datatrove_pipeline.py"), "--extract",
                          *map(str, pages)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def scores() -> dict[str, tuple[float, float, float]]:
    """(precision, recall, F1) per system over the HTML fixtures."""
    cfg = Config()
    pages = _fixtures([FIX / "html"], ".html")
    theirs = datatrove_texts(pages)
    names = ["thresher", "datatrove Trafilatura, defaults", "datatrove, deduplicate=False"]
    totals = {k: [0, 0, 0] for k in names}
    for page in pages:
        gold = shingles(_gold(page, ".html")[0])
        texts = {names[0]: extract_html(page.read_bytes(), cfg)[0].text,
                 names[1]: theirs[str(page)]["default"],
                 names[2]: theirs[str(page)]["deduplicate=False"]}
        for key, text in texts.items():
            _add(totals[key], overlap(shingles(text), gold))
    print(f"HTML extraction on {len(pages)} fixture pages (bench/quality.py's scoring, 4-token shingles)")
    for key, total in totals.items():
        print(_line(key, total))
    return {k: prf(*v) for k, v in totals.items()}


if __name__ == "__main__":
    scores()
