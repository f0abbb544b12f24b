"""The damage audit: how much article prose each rule removes from text that is all article.

    python -m bench.damage                    # every dev page and fixture, both forms
    python -m bench.damage --split train      # tune on this one
    python -m bench.damage --forms dump --no-dev   # the fixtures alone, as text dumps

Input: human-verified article bodies, nothing else: the gold bodies of
``../shared/extraction-dev`` (:mod:`bench.devsets`, which says so when they are absent) and the
expected texts of the fixtures (``tests/fixtures/*/*.expected.txt``). Each body goes through the
whole cleaning path that ``thresher run`` uses, in two forms:

* ``dump``: the body's lines as a ``.txt`` text dump (:func:`thresher.extract.clean_dump`:
  the named rules, then the line model);
* ``html``: a minimal HTML page, one ``<p>`` per line (:func:`thresher.extract.extract_html`:
  the block model, then the named rules that run on HTML).

Every character the pipeline then logs in ``removed`` was taken from the gold body. Not all of
it is damage: golds also hold titles, bylines, dates, captions and headings that the rules
rightly move out of ``text``. **Prose** is a gold line of at least :data:`PROSE_MIN_WORDS`
words (CJK characters count half, as everywhere in thresher) that ends in sentence-final
punctuation (``. ! ? …`` or their CJK forms, maybe followed by closing quotes or brackets).
Headlines, bylines, dates, datelines, captions with a credit in brackets, list items and
headings fail one of the two tests; a paragraph of an article passes both. A removed span
counts as **prose damage** when the gold line it was taken from is prose: a whole line, or a
cut from its edge. The same test for every rule and both forms.

A page the pipeline rejects loses its whole body: counted on a row of its own (``rejected``).
The bar (issue 16): no named rule removes more than 0.1% of the gold prose characters. The two
learned models (``extract@``, ``line_model@``) are listed too, with their examples capped
(``--model-examples``); they are judged by the F1 benches, not by this bar.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bench.devsets import absent_message, devsets_root, load_pages
from thresher.config import Config
from thresher.extract import clean_dump, extract_html
from thresher.records import Reject
from thresher.text import normalize_lines, word_count

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
PROSE_MIN_WORDS = 8
BAR = 0.001  # a named rule may take at most this share of the gold prose characters
MODELS = ("extract", "line_model")
EXAMPLE_CHARS = 150
_PROSE_END = re.compile(r"[.!?…。！？][\"'“”‘’«»‹›)\]」』）]*$")


def is_prose(line: str) -> bool:
    """A body sentence: long enough to be prose and ending like a sentence (module docstring)."""
    return word_count(line) >= PROSE_MIN_WORDS and bool(_PROSE_END.search(line))


@dataclass(frozen=True)
class Body:
    """One human-verified article body: where it comes from and its non-blank normalised lines."""

    key: str
    group: str  # "train", "test" (dev pages by their hash split) or "fixture"
    lines: tuple[str, ...]

    @property
    def prose_chars(self) -> int:
        return sum(len(line) for line in self.lines if is_prose(line))


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line for line in normalize_lines(text) if line)


def dev_bodies(split: str | None = None) -> list[Body]:
    """The gold bodies of the dev sets (``split``: train, test or both)."""
    return [Body(p.key, p.split, _lines(p.gold)) for p in load_pages(split=split)]


def fixture_bodies(root: Path = FIXTURES) -> list[Body]:
    """The expected texts of the fixtures (dumps and HTML pages), in a fixed order."""
    return [Body(f"fixture/{path.parent.name}/{path.name.removesuffix('.expected.txt')}", "fixture",
                 _lines(path.read_text(encoding="utf-8")))
            for path in sorted(root.glob("*/*.expected.txt"))]


def as_dump(body: Body) -> bytes:
    return "\n".join(body.lines).encode("utf-8")


def as_html(body: Body) -> bytes:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>\n" for line in body.lines)
    return f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n{paragraphs}</body></html>".encode("utf-8")


@dataclass(frozen=True)
class Cut:
    """One logged removal from a gold body: which rule, how many characters, whether from prose."""

    rule: str
    chars: int
    prose: bool
    text: str


def _source_line(text: str, lines: tuple[str, ...], by_text: dict[str, int]) -> int | None:
    """The gold line a removed span came from: the line itself, the line it starts (a logged
    text cut short), or the line it is a piece of (a cut from a line's edge)."""
    text = " ".join(text.split())
    if text in by_text:
        return by_text[text]
    hits = [i for i, line in enumerate(lines) if text and text in line]
    if not hits:
        return None
    prose = [i for i in hits if is_prose(lines[i])]
    return (prose or hits)[0]  # ambiguous short pieces: judged against prose if any holds it


def audit_body(body: Body, form: str, cfg: Config) -> list[Cut] | None:
    """The removals the cleaning path logs on ``body`` in ``form``; None when the page is rejected."""
    if form == "dump":
        out = clean_dump(as_dump(body), cfg)
    else:
        out = extract_html(as_html(body), cfg)
        out = out if isinstance(out, Reject) else out[0]
    if isinstance(out, Reject):
        return None
    by_text = {line: i for i, line in reversed(list(enumerate(body.lines)))}
    cuts = []
    for r in out.removed:
        if form == "dump":  # the dump's lines are the gold lines: the logged line number says which
            src = r.line if 0 <= r.line < len(body.lines) else None
        else:
            src = _source_line(r.text, body.lines, by_text)
        prose = src is not None and is_prose(body.lines[src])
        cuts.append(Cut(r.rule, r.end - r.start, prose, r.text))
    return cuts


@dataclass
class Tally:
    """Per rule: characters removed, prose characters removed, and the prose examples."""

    prose_total: int = 0
    pages: int = 0
    chars: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    prose: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, body: Body, cuts: list[Cut] | None) -> None:
        self.pages += 1
        self.prose_total += body.prose_chars
        if cuts is None:
            self.chars["rejected"] += sum(len(line) for line in body.lines)
            self.prose["rejected"] += body.prose_chars
            if body.prose_chars:
                self.examples["rejected"].append(f"{body.key}: the whole page ({body.prose_chars:,} prose characters)")
            return
        for c in cuts:
            self.chars[c.rule] += c.chars
            if c.prose:
                self.prose[c.rule] += c.chars
                self.examples[c.rule].append(f"{body.key}: {_clip(c.text)}")

    def share(self, rule: str) -> float:
        return self.prose.get(rule, 0) / self.prose_total if self.prose_total else 0.0

    def over_bar(self) -> list[str]:
        """Named rules (not the models, not rejects) that remove more than :data:`BAR` of the prose."""
        return [r for r in self.chars if not _is_model(r) and r != "rejected" and self.share(r) > BAR]


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def _is_model(rule: str) -> bool:
    return rule.split("@")[0] in MODELS


def audit(bodies: Iterable[Body], form: str, cfg: Config | None = None) -> Tally:
    """The damage tally of ``bodies`` cleaned in ``form``."""
    cfg = cfg or Config()
    tally = Tally()
    for body in bodies:
        tally.add(body, audit_body(body, form, cfg))
    return tally


def table(title: str, tally: Tally) -> list[str]:
    out = [f"{title}: {tally.pages} pages, {tally.prose_total:,} gold prose characters",
           f"  {'rule':<28}{'chars removed':>14}{'prose chars':>13}{'share of prose':>16}  bar"]
    for rule in sorted(tally.chars, key=lambda r: (-tally.prose.get(r, 0), -tally.chars[r], r)):
        share = tally.share(rule)
        verdict = "model" if _is_model(rule) else "-" if rule == "rejected" else ("OVER" if share > BAR else "ok")
        out.append(f"  {rule:<28}{tally.chars[rule]:>14,}{tally.prose.get(rule, 0):>13,}{share:>15.4%}  {verdict}")
    return out


def examples(tally: Tally, model_cap: int) -> list[str]:
    out = []
    for rule in sorted(tally.examples):
        found = tally.examples[rule]
        shown = found[:model_cap] if _is_model(rule) else found
        more = f" (first {len(shown)} shown)" if len(shown) < len(found) else ""
        out.append(f"  {rule}: {len(found)} prose spans{more}")
        out.extend(f"    {e}" for e in shown)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("train", "test"), help="only this split of the dev pages")
    ap.add_argument("--forms", default="dump,html", help="comma-separated: dump, html")
    ap.add_argument("--no-dev", action="store_true", help="only the fixtures")
    ap.add_argument("--no-fixtures", action="store_true", help="only the dev pages")
    ap.add_argument("--model-examples", type=int, default=10, help="examples shown per learned model")
    args = ap.parse_args(argv)
    dev: list[Body] = []
    if not args.no_dev:
        if devsets_root() is None:
            print(absent_message(), file=sys.stderr)
        else:
            dev = dev_bodies(args.split)
    fixtures = [] if args.no_fixtures else fixture_bodies()
    groups = [(g, [b for b in dev if b.group == g]) for g in ("train", "test") if any(b.group == g for b in dev)]
    failed = False
    for form in args.forms.split(","):
        print(f"== {form}: gold bodies as {'text dumps' if form == 'dump' else 'HTML pages of <p> paragraphs'}")
        tallies = [(f"dev {g}", audit(bs, form)) for g, bs in groups]
        if len(tallies) == 2:
            both = Tally()
            for _, t in tallies:
                both.prose_total += t.prose_total
                both.pages += t.pages
                for d_out, d_in in ((both.chars, t.chars), (both.prose, t.prose)):
                    for k, v in d_in.items():
                        d_out[k] += v
                for k, v in t.examples.items():
                    both.examples[k].extend(v)
            tallies.append(("dev all", both))
        if fixtures:
            tallies.append(("fixtures", audit(fixtures, form)))
        for title, tally in tallies:
            print("\n".join(table(title, tally)))
            over = tally.over_bar()
            failed |= bool(over)
            print(f"  rules over the {BAR:.1%} bar: {', '.join(sorted(over)) or 'none'}\n")
        combined = any(title == "dev all" for title, _ in tallies)
        for title, tally in tallies:
            if not (combined and title in ("dev train", "dev test")):
                print(f"every prose span removed ({form}, {title}):")
                print("\n".join(examples(tally, args.model_examples)) or "  none")
                print()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
