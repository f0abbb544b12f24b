"""Every use of Prefect internals, in one place, and why: ``tests/test_prefect_contract.py`` fails
loudly when a Prefect upgrade moves any of them.

thresher uses Prefect's public API (flows, tasks, artifacts, ``ThreadPoolTaskRunner``,
``quote``) except where a measured cost made it reach further:

* the temporary server of ``thresher run`` is launched the way Prefect 3.8.8's own
  ``SubprocessASGIServer`` launches it (its uvicorn factory and its private ``PREFECT__SERVER_*``
  markers), but before Prefect is imported, to overlap its ~4 s start with ours
  (:mod:`flows.server`);
* settings are refreshed after ``PREFECT_API_URL`` is set in this process, so the flow finds
  that server (``refresh_global_settings_context``);
* a shard task finds the flow's task runner through ``FlowRunContext`` to hand the shard to
  the runner's process pool (:mod:`flows.shardpool`).

Importing this module does not import Prefect: :mod:`flows.server` uses its constants before
Prefect is loaded.
"""

from __future__ import annotations

from typing import Any

PREFECT_VERSION = "3.8.8"  # what these internals were checked against (the pin in pyproject.toml)
SERVER_APP = "prefect.server.api.server:create_app"  # the factory SubprocessASGIServer runs under uvicorn
# What SubprocessASGIServer sets for the server it starts: UI off, marked temporary ("ephemeral")
# and final (no further settings layering in the server process).
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}


def refresh_settings() -> None:
    """Make this process's Prefect settings read the environment again (a new API URL)."""
    from prefect.context import refresh_global_settings_context

    refresh_global_settings_context()


def current_task_runner() -> Any:
    """The task runner of the flow run this thread works for, or None outside a flow run."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    return context.task_runner if context else None
