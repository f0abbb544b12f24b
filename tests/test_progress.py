"""Progress events and how `thresher run` shows them."""

from __future__ import annotations

import io

from thresher import progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_are_rate_limited_and_the_last_one_always_shows():
    stream, clock = io.StringIO(), Clock()
    handler = progress.PlainHandler(stream, every=10, clock=clock)
    progress.LOGGER.addHandler(handler)
    try:
        for done, t in ((0, 0), (500, 4), (1000, 10), (1500, 12), (2000, 20)):
            clock.now = 100 + t
            progress.advance(done, 2000)
    finally:
        progress.LOGGER.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "progress: 0/2,000 pages (0%), 0.0 pages/s",
        "progress: 1,000/2,000 pages (50%), 100.0 pages/s, about 10 s left",
        "progress: 2,000/2,000 pages (100%), 100.0 pages/s",
    ]


def test_watch_shows_plain_lines_off_a_terminal_and_a_bar_on_one():
    plain = io.StringIO()
    with progress.watch(plain):
        progress.advance(3, 4, "files")
        progress.advance(4, 4, "files")
    assert plain.getvalue().startswith("progress: 3/4 files (75%)") and "4/4 files (100%)" in plain.getvalue()
    assert not progress.LOGGER.handlers and progress.LOGGER.propagate  # nothing left behind

    bar = io.StringIO()
    with progress.watch(bar, live=True):
        progress.advance(2, 4, "files")
        progress.advance(4, 4, "files")
    assert "4/4" in bar.getvalue() and "100%" in bar.getvalue() and "progress:" not in bar.getvalue()
