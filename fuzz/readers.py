"""Time-boxed mutation fuzzing of the readers and extractors (``make fuzz``).

    python fuzz/readers.py [SECONDS]     # default 60

Takes the fixture pages (dumps, HTML, a WARC made from them), mutates their bytes (flips,
truncations, splices, repeated runs, gzip of the result) and feeds each to the same reading
and extraction code the pipeline runs. Anything but a page or a reject with a reason is a
bug: the input that caused it is saved under fuzz/crashes/ and the run exits 1.
"""

from __future__ import annotations

import gzip
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

from thresher.config import Config
from thresher.extract import extract_page
from thresher.records import Reject
from thresher.sources import Failed, RawInput, read_pages

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
CRASHES = Path(__file__).resolve().parent / "crashes"


def seeds() -> list[tuple[str, bytes]]:
    out = []
    for d, suffix in (("dumps", ".txt"), ("html", ".html")):
        for p in sorted((FIX / d).glob(f"*{suffix}"))[:12]:
            if not p.name.endswith(".expected.txt"):
                out.append((suffix, p.read_bytes()))
    return out


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        if not b:
            break
        i = rng.randrange(len(b))
        if op < 0.3:
            b[i] = rng.randrange(256)
        elif op < 0.5:
            del b[i : i + rng.randint(1, 2000)]
        elif op < 0.7:
            j = rng.randrange(len(b))
            b[i:i] = b[j : j + rng.randint(1, 500)]
        elif op < 0.85:
            b[i:i] = bytes([rng.randrange(256)]) * rng.randint(1, 5000)
        else:
            b = b[: rng.randrange(len(b) + 1)]
    return bytes(b)


def main(seconds: float) -> int:
    rng = random.Random(1)
    cfg = Config(max_bytes=1 << 20)
    corpus = seeds()
    work = Path(tempfile.mkdtemp(prefix="thresher-fuzz-"))
    runs = rejects = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        suffix, data = rng.choice(corpus)
        data = mutate(rng, data)
        name = "case" + suffix
        if rng.random() < 0.2:
            data, name = (gzip.compress(data)[: rng.randrange(1, 10**6)] if rng.random() < 0.5 else gzip.compress(data)), name + ".gz"
        (work / name).write_bytes(data)
        try:
            for unit in read_pages(work, RawInput(name, name.split(".", 1)[1]), cfg.max_bytes):
                out = unit.reject if isinstance(unit, Failed) else extract_page(unit, cfg)
                rejects += isinstance(out, Reject)
                assert isinstance(out, Reject) or out[0].text
        except Exception:
            CRASHES.mkdir(exist_ok=True)
            crash = CRASHES / f"crash-{runs}{suffix}"
            crash.write_bytes(data)
            print(f"crash on {crash}:\n{traceback.format_exc()}")
            return 1
        runs += 1
    print(f"fuzzed {runs} mutated inputs in {seconds:.0f} s: no crash ({rejects} rejected with a reason)")
    return 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 60))
