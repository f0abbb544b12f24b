"""Date lines to UTC timestamps, in several languages and conventions."""

import pytest

from thresher.dates import parse_date


@pytest.mark.parametrize(
    "text, language, expected",
    [
        ("March 3, 2025 10:42 a.m. ET", "en", "2025-03-03T15:42:00+00:00"),
        ("03/04/2025 10:42 AM", "en", "2025-03-04T10:42:00+00:00"),
        ("04/03/2025 13:27 CET", "es", "2025-03-04T12:27:00+00:00"),
        ("3 mars 2025 à 10h42", "fr", "2025-03-03T10:42:00+00:00"),
        ("03.03.2025, 18:00 Uhr", "de", "2025-03-03T18:00:00+00:00"),
        ("Thứ Hai, 03/03/2025 18:00 (GMT+7)", "vi", "2025-03-03T11:00:00+00:00"),
    ],
)
def test_parses_dates_to_utc(text, language, expected):
    assert parse_date(text, language) == expected


@pytest.mark.parametrize("text", ["5 hours ago", "il y a 3 heures", "vor 2 Stunden", "há 2 horas", "yesterday"])
def test_relative_dates_give_no_timestamp(text):
    assert parse_date(text, None) is None


def test_unknown_language_falls_back_to_all_locales():
    assert parse_date("March 3, 2025", "xx") == "2025-03-03T00:00:00+00:00"
