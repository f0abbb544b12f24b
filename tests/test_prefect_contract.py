"""The Prefect internals thresher relies on (all listed in flows/prefect_private.py) are where we
expect them. A Prefect upgrade that moves one fails here, by name, instead of in a user's run."""

from __future__ import annotations

import inspect

import prefect
import pytest

from flows import prefect_private


def test_prefect_is_the_version_the_internals_were_checked_against():
    assert prefect.__version__ == prefect_private.PREFECT_VERSION, (
        f"Prefect {prefect.__version__} is installed; flows/prefect_private.py was checked against "
        f"{prefect_private.PREFECT_VERSION}: re-check every item there, then update PREFECT_VERSION")


def test_the_temporary_server_is_launched_as_prefect_launches_it():
    import importlib

    from prefect.server.api import server

    module, _, factory = prefect_private.SERVER_APP.partition(":")
    assert callable(getattr(importlib.import_module(module), factory))
    source = inspect.getsource(server.SubprocessASGIServer)
    for name in prefect_private.SERVER_ENV:
        assert name in source, f"SubprocessASGIServer no longer sets {name}"


def test_settings_refresh_and_flow_run_context_exist():
    from prefect.context import FlowRunContext

    assert prefect_private.current_task_runner() is None  # outside a flow run
    assert "task_runner" in FlowRunContext.model_fields
    prefect_private.refresh_settings()


@pytest.mark.parametrize("method", ["duplicate", "__enter__", "__exit__", "submit"])
def test_the_thread_pool_task_runner_has_what_shardpool_overrides_or_calls(method):
    from prefect.task_runners import ThreadPoolTaskRunner

    assert callable(getattr(ThreadPoolTaskRunner, method))
    assert "max_workers" in inspect.signature(ThreadPoolTaskRunner.__init__).parameters
