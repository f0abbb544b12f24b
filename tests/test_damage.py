"""Rules never eat article prose: the cases issue 16 found on real pages, each beside the chaff
the same rule must still remove, and the damage audit (``make bench-damage``) held on the
fixtures' expected texts."""

from __future__ import annotations

from bench.damage import Body, audit, fixture_bodies, is_prose
from thresher.config import DEFAULT_RULES, Config
from thresher.rules import strip_boilerplate

ARTICLE = [
    "The city council voted 7-2 on Tuesday to approve a $48 million plan to replace aging water mains.",
    "Officials said the first phase would begin in late summer and take about two years to complete.",
    "Residents of the Eastside, where basements flooded twice last spring, welcomed the decision.",
    "\"We have waited a long time for this,\" said Dolores Whitfield, who has lived there since 1978.",
    "The plan is paid for by a bond that voters approved in November by a wide margin.",
]
AFTER = [
    "Council member Ray Ortiz, who voted against the plan, said the cost estimates were too optimistic.",
    "Work on the first six miles of pipe is expected to begin in August, the utility said.",
    "A public meeting on the construction schedule will be held at the library on May 12.",
]


def clean(*lines: str):
    return strip_boilerplate("\n".join(lines), DEFAULT_RULES)


def removed_by(out, rule: str) -> list[str]:
    return [r.text for r in out.removals if r.rule.split("@")[0] == rule]


# --------------------------------------------------------------------------- comments

def test_declined_to_comment_in_the_middle_keeps_every_paragraph():
    for line in ("The mayor's office declined to comment.", "A spokesperson for the NYAG declined to comment."):
        out = clean(*ARTICLE, line, *AFTER)
        assert list(out.paragraphs) == [*ARTICLE, line, *AFTER]


def test_declined_to_comment_as_last_line_stays():
    out = clean(*ARTICLE, "Police declined to comment.")
    assert out.paragraphs[-1] == "Police declined to comment."


def test_comment_section_with_names_stamps_and_replies_goes():
    out = clean(*ARTICLE, *AFTER, "Comments (12)", "Okoth J. · 2 hours ago",
                "The county has been sleeping on this for years.", "Reply",
                "mary_w", "3h", "About time. My basement flooded twice.", "Like · Reply")
    assert list(out.paragraphs) == [*ARTICLE, *AFTER]
    assert "About time. My basement flooded twice." in removed_by(out, "comments")


def test_sentence_that_asks_for_a_log_in_opens_a_section_only_before_comment_items():
    section = clean(*ARTICLE, *AFTER, "Um zu kommentieren, melden Sie sich bitte an oder registrieren Sie sich kostenlos.",
                    "Hanne_W.", "vor 2 Stunden", "Unglaublich, das Team war großartig.", "Antworten")
    assert list(section.paragraphs) == [*ARTICLE, *AFTER]


def test_comment_header_before_prose_goes_alone():
    out = clean(*ARTICLE, "Comments", *AFTER)
    assert list(out.paragraphs) == [*ARTICLE, *AFTER]
    assert removed_by(out, "comments") == ["Comments"]


# --------------------------------------------------------------------------- tail links

def test_list_at_the_end_of_an_article_is_kept():
    items = ["Lakeport Ledger", "Eastside Gazette", "Harbor City Public Radio for its flood coverage",
             "The Millbrook Weekly", "Channel 7 News", "Riverside Tribune and its photo desk"]
    out = clean(*ARTICLE, "The finalists for the regional press award are:", *items)
    assert list(out.paragraphs[-len(items):]) == items


def test_closing_quote_and_instruction_without_full_stop_are_kept():
    for last in ("\"We will rebuild this street together, one house at a time\"",
                 "Residents can sign up for alerts on the city's website"):
        out = clean(*ARTICLE, last)
        assert out.paragraphs[-1] == last


def test_article_quoting_see_more_keeps_the_sentence():
    line = "Users who tap \"See more\" are shown the rest of the post, the company said."
    assert line in clean(*ARTICLE, line, *AFTER).paragraphs
    assert clean(*ARTICLE, "See more").paragraphs[-1] == ARTICLE[-1]


def test_topic_tags_and_a_labelled_row_of_links_still_go():
    tags = clean(*ARTICLE, "Water", "City Council", "Eastside")
    assert list(tags.paragraphs) == ARTICLE
    assert {"Water", "Eastside"} <= set(removed_by(tags, "tail_links"))
    row = clean(*ARTICLE, "Temas relacionados:", "Metro: reabren estaciones de la Línea 1 tras un año de obras",
                "Clima CDMX: Protección Civil activa alerta naranja por calor")
    assert "Clima CDMX: Protección Civil activa alerta naranja por calor" in removed_by(row, "tail_links")


# --------------------------------------------------------------------------- end markers

def test_end_marker_only_at_the_end():
    middle = "Thousands marched through the capital on Sunday, police said./."
    out = clean(middle, *ARTICLE[1:], "The talks will resume in March./.")
    assert out.paragraphs[0] == middle
    assert out.paragraphs[-1] == "The talks will resume in March."


# --------------------------------------------------------------------------- the audit

def test_prose_is_a_long_line_that_ends_like_a_sentence():
    assert is_prose(ARTICLE[0]) and is_prose("\"No, not now,\" she said on Tuesday at the hall.")
    assert not is_prose("Council approves $48 million water main plan")  # a headline
    assert not is_prose("By Jane Doe, Staff Writer")
    assert not is_prose("Police declined to comment.")  # a sentence, but shorter than a paragraph


def test_audit_counts_prose_a_rule_removes():
    """The audit can fail: an author box closing a gold body is prose that ``author_bio``
    removes by design, and the audit says so with the page and the span."""
    bio = "Maria Castillo covers City Hall for the Ledger and has reported on the council since 2019."
    body = Body("synthetic/bio", "fixture", (*ARTICLE, bio))
    tally = audit([body], "dump", Config(rules=tuple(r for r in DEFAULT_RULES)))
    rule = next(r for r in tally.prose if r.startswith("author_bio@"))
    assert tally.prose[rule] == len(bio)
    assert tally.examples[rule] == [f"synthetic/bio: {bio}"]
    assert rule in tally.over_bar()


def test_fixture_bodies_lose_no_prose_to_any_rule():
    """The fixtures' expected texts are all article: cleaned as dumps and as HTML pages, no
    named rule and no model may remove a body sentence, and no page may be rejected."""
    bodies = fixture_bodies()
    assert len(bodies) >= 90
    for form in ("dump", "html"):
        tally = audit(bodies, form)
        assert dict(tally.prose) == {}, (form, dict(tally.examples))


# --------------------------------------------------------------------------- site chrome, leading chrome

def test_recipe_with_a_cookie_sheet_is_not_a_cookie_banner():
    recipe = "Place the bread on a cookie sheet in a single layer; you might need two sheets."
    banner = "We use cookies to improve your experience on our website. By browsing, you agree to our use of cookies."
    out = clean(*ARTICLE, recipe, banner, *AFTER)
    assert recipe in out.paragraphs
    assert removed_by(out, "site_chrome") == [banner]


def test_paragraphs_above_a_heading_are_not_leading_chrome():
    """A page whose body starts above its first heading-shaped line (a catalogue, a list of
    posts) keeps the paragraphs above it; a banner and a menu above a headline still go."""
    details = ["Room 204", "Four sessions", "Fee $89", "Materials included", "Instructor J. Smith",
               "Evening class", "Seats limited", "Level one", "Certificate awarded"]
    courses = ["Learn how to set preferences, create a chart of accounts and set up items and vendors.", *details,
               "Take all four of these seminars at a reduced price and save on the materials.", *details,
               "Introduction to Spreadsheets", *ARTICLE]
    kept = clean(*courses).paragraphs
    assert courses[0] in kept and courses[10] in kept
    page = clean("LAKEPORT LEDGER", "News Sports Opinion", "Council approves water main plan", *ARTICLE)
    assert list(page.paragraphs) == ARTICLE
    assert removed_by(page, "leading_chrome") == ["LAKEPORT LEDGER", "News Sports Opinion"]
