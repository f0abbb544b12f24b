"""A synthetic news corpus for the throughput benchmark: distinct stories, known copies, real chaff.

Why not the fixture pages themselves: they are 36 articles, so a corpus of 10,000 pages built
from them is 36 stories printed hundreds of times. Every system then spends its dedup on the
same few clusters, and thresher's repeated-paragraph rule rightly strips a story its site
printed on hundreds of pages as template text, so the systems end up keeping different pages.

Here every story is its own: 12 to 20 sentences drawn from the ~1,700 distinct sentences of
the fixtures' expected texts (real prose in several languages), in paragraphs of two or three.
One page in five (``COPY_SHARE``) is a syndicated copy of an earlier story on another site,
lightly edited (a paragraph dropped, a wire sign-off added): the near-duplicate job that dedup
exists for. Each of 20 sites wraps its pages in the same chrome every time (navigation, log in,
share bar, caption with photo credit, related-news teasers, footer), which is the template
text the cleaners must remove. One page in five is a flattened text dump of the same page, as
scrapers leave them. Everything is seeded: the same N gives the same corpus.
"""

from __future__ import annotations

import html
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SITES = 20
COPY_SHARE = 0.2  # pages that re-publish an earlier story: the duplicates a run should find
DUMP_EVERY = 5  # every fifth page is a flattened text dump instead of HTML
NAV = ["Home", "World", "Business", "Politics", "Sport", "Culture", "Opinion"]
AUTHORS = ["Maria Keller", "Tran Van Minh", "James O'Connor", "Aiko Tanaka", "Lucia Fernández", "Samuel Okafor"]


def sentence_pool() -> list[str]:
    """Distinct sentences of the fixtures' expected texts, in a stable order."""
    found: set[str] = set()
    paths = sorted(FIXTURES.glob("**/*.expected.txt")) + sorted((FIXTURES / "dedup" / "docs").glob("*.txt"))
    for path in paths:
        for s in re.split(r"(?<=[.!?])\s+", path.read_text(encoding="utf-8", errors="replace")):
            s = " ".join(s.split())
            if 40 <= len(s) <= 300 and s[0].isupper():
                found.add(s)
    return sorted(found)


def _story(rng: random.Random, pool: list[str]) -> list[str]:
    sentences = rng.sample(pool, rng.randint(12, 20))
    paragraphs, i = [], 0
    while i < len(sentences):
        k = rng.choice((2, 3))
        paragraphs.append(" ".join(sentences[i:i + k]))
        i += k
    return paragraphs


def _title(paragraphs: list[str]) -> str:
    words = paragraphs[0].split()[:9]
    return " ".join(words).rstrip(",.;:")


def _html(site: int, i: int, title: str, paragraphs: list[str], teasers: list[str], rng: random.Random) -> str:
    name, host = f"Daily Courier {site:02d}", f"courier{site:02d}.example"
    e = html.escape
    day = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    body = "\n".join(f"<p>{e(p)}</p>" for p in paragraphs)
    caption = e(paragraphs[0].split(". ")[0][:90])
    related = "".join(f'<li><a href="/news/{k}">{e(t)}</a></li>' for k, t in enumerate(teasers))
    nav = " ".join(f'<a href="/{n.lower()}">{n}</a>' for n in NAV)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)} | {name}</title>
<meta property="og:site_name" content="{name}"><meta property="og:title" content="{e(title)}">
<meta name="description" content="{e(paragraphs[0][:150])}">
<link rel="canonical" href="https://{host}/news/{i}.html">
<meta property="article:published_time" content="{day}T08:00:00Z"></head>
<body><header><div class="brand">{name}</div><nav>{nav} <a href="/login">Log in</a> <a href="/subscribe">Subscribe</a></nav></header>
<main><article><h1>{e(title)}</h1>
<div class="byline">By {e(rng.choice(AUTHORS))} | {day}</div>
<div class="share">Share: Facebook Twitter Email</div>
<figure><img src="/img/{i}.jpg" alt=""><figcaption>{caption} (Photo: {name})</figcaption></figure>
{body}
</article>
<aside><h2>Related news</h2><ul>{related}</ul></aside></main>
<footer><p>&copy; 2025 {name}. All rights reserved.</p><p><a href="/contact">Contact us</a> | <a href="/privacy">Privacy policy</a></p></footer>
</body></html>
"""


def _dump(site: int, title: str, paragraphs: list[str], teasers: list[str], rng: random.Random) -> str:
    name = f"Daily Courier {site:02d}"
    lines = [name, *NAV, "Log in", title, f"By {rng.choice(AUTHORS)}", ""]
    lines += [p + "\n" for p in paragraphs]
    lines += ["Related news", *teasers, f"© 2025 {name}. All rights reserved."]
    return "\n".join(lines) + "\n"


def make_corpus(folder: Path, n: int) -> dict:
    """Write ``n`` pages under ``folder/raw/siteNN/``; return what was made (stories, copies)."""
    rng = random.Random(n)
    pool = sentence_pool()
    stories: list[list[str]] = []
    raw = folder / "raw"
    copies = 0
    for i in range(n):
        site = i % SITES
        if stories and rng.random() < COPY_SHARE:  # syndicated: an earlier story, lightly edited
            paragraphs = list(rng.choice(stories))
            if len(paragraphs) > 4 and rng.random() < 0.5:
                paragraphs = paragraphs[:-1]
            else:
                paragraphs.append(f"Reporting by {rng.choice(AUTHORS)}; editing by {rng.choice(AUTHORS)}.")
            copies += 1
        else:
            paragraphs = _story(rng, pool)
            stories.append(paragraphs)
        title = _title(paragraphs)
        teasers = [_title([rng.choice(pool)]) for _ in range(4)]
        folder_ = raw / f"site{site:02d}"
        folder_.mkdir(parents=True, exist_ok=True)
        if i % DUMP_EVERY == DUMP_EVERY - 1:
            (folder_ / f"page{i:06d}.txt").write_text(_dump(site, title, paragraphs, teasers, rng), encoding="utf-8")
        else:
            (folder_ / f"page{i:06d}.html").write_text(_html(site, i, title, paragraphs, teasers, rng), encoding="utf-8")
    return {"pages": n, "stories": len(stories), "copies": copies}
