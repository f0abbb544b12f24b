"""CLI conventions a user relies on: help with examples everywhere, a version, --json for data."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from thresher import __version__
from thresher.cli import app

COMMANDS = ["run", "clean", "verify", "audit", "report", "search", "stories", "export", "rules", "schema", "keygen"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    res = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert res.exit_code == 0
    assert f"Example: thresher {command}" in res.stdout


def test_the_command_list_is_complete_and_versioned():
    res = CliRunner().invoke(app, ["--help"], terminal_width=200)
    listed = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert listed == set(COMMANDS)
    assert all(c in res.stdout for c in COMMANDS)
    assert CliRunner().invoke(app, ["--version"]).stdout.strip() == f"thresher {__version__}"


@pytest.mark.parametrize("command", ["run", "clean", "verify", "audit", "report", "search", "stories"])
def test_commands_that_print_data_offer_json(command):
    assert "--json" in CliRunner().invoke(app, [command, "--help"], terminal_width=200).stdout
