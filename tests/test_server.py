"""`thresher run` launches its temporary Prefect server before it imports Prefect, and must then
keep it only when Prefect itself would have started one: never when an API is configured."""

from __future__ import annotations

import os

from prefect.settings import PREFECT_API_URL, temporary_settings

from flows import server


class FakeServer:
    api_url = "http://127.0.0.1:4999/api"

    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


def test_no_early_server_when_the_environment_or_the_profile_names_an_api(monkeypatch, tmp_path):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert server.launch_early() is None

    monkeypatch.delenv("PREFECT_API_URL")
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('active = "work"\n\n[profiles.work]\nPREFECT_API_URL = "http://prefect.internal:4200/api"\n')
    monkeypatch.setenv("PREFECT_PROFILES_PATH", str(profiles))
    assert server.launch_early() is None


def test_an_early_server_is_stopped_when_the_settings_name_an_api(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    early = FakeServer()
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        assert server.keep_if_needed(early) is None
    assert early.stopped
    assert "PREFECT_API_URL" not in os.environ


def test_an_early_server_is_kept_and_exported_when_no_api_is_configured(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)  # restored (unset) after the test
    early = FakeServer()
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert server.keep_if_needed(early) is early
    assert not early.stopped
    assert os.environ["PREFECT_API_URL"] == early.api_url  # for the workers started from now on
