"""The temporary Prefect server of ``thresher run``, started first so its start-up overlaps ours.

Without ``PREFECT_API_URL``, Prefect starts a temporary local server the first time a flow
needs its API: after the command has imported the flow (and, in this process, the whole server
application, only to find the class that launches it), and before the first task can run.
Measured on 2 cores, the server's own start (importing its application, about 4 s of CPU) is
the largest part of Prefect's share of a short run (see docs/benchmarks.md).
``thresher run`` instead launches the same server, the same way (``uvicorn`` on
``prefect.server.api.server:create_app``, UI off, marked ephemeral, as Prefect 3.8.8's
``SubprocessASGIServer`` does), before it imports Prefect at all: :func:`launch_early` needs
only the standard library. Once Prefect's settings are loaded, :func:`keep_if_needed` stops it
again if the settings name an API after all (a profile can) or forbid a temporary server.

Nothing changes for the flow: it finds ``PREFECT_API_URL`` set, like on any server, and its
task runs are recorded there. The server is stopped when the command ends.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from flows import prefect_private


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TemporaryServer:
    """A Prefect API server on a free local port, for the life of one command.

    Built from the environment alone (no Prefect import): the server process reads the same
    environment, profile and ``prefect.toml`` as this one, so it gets the same settings."""

    def __init__(self) -> None:
        import importlib.util

        # Prefect's default (20 s) counts only its sleeps between health checks; start-up on a
        # busy 2-core machine has taken longer than 20 s of wall time, so allow a minute at least.
        self.timeout = max(float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", 20)), 60)
        self.env = {**os.environ, **prefect_private.SERVER_ENV}
        spec = importlib.util.find_spec("prefect")
        assert spec is not None and spec.origin is not None, "prefect is not installed"
        self.app_dir = str(Path(spec.origin).resolve().parent.parent)
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def launch(self) -> None:
        """Start the server process; does not wait for it (see :meth:`wait_ready`)."""
        self.port = _free_port()
        # Through flows.lifeline: the server dies with this process even when it is killed
        # (SIGKILL runs no atexit). In a process group of its own: a Ctrl-C in the terminal
        # reaches the whole foreground group, and the flow still needs its server to record
        # the run's end; this process stops it (atexit) when it is done.
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-m", "flows.lifeline", str(os.getpid()), "uvicorn", "--app-dir", self.app_dir,
             "--factory", prefect_private.SERVER_APP, "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "error", "--lifespan", "on"],
            env=self.env, process_group=0,
        )
        atexit.register(self.stop)

    def wait_ready(self) -> None:
        """Block until the API answers /health; relaunch on a new port if the one chosen was
        taken meanwhile (uvicorn exits with 3 when it cannot bind)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            code = self.process.poll()
            if code == 3:
                self.launch()
                continue
            if code is not None:
                raise RuntimeError(f"the temporary Prefect server exited with code {code}")
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the temporary Prefect server did not answer within {self.timeout} s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def _profile_names_api() -> bool:
    """Whether the Prefect profiles file mentions an API URL (then no server is launched early)."""
    home = Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser()
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml")).expanduser()
    try:
        return "PREFECT_API_URL" in profiles.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def launch_early() -> TemporaryServer | None:
    """Launch a temporary server unless ``PREFECT_API_URL`` is already known (environment or
    profile); called before Prefect is imported, so the server starts while Prefect loads
    here. :func:`keep_if_needed` confirms it once settings can be read."""
    if os.environ.get("PREFECT_API_URL") or _profile_names_api():
        return None
    server = TemporaryServer()
    server.launch()
    return server


def keep_if_needed(server: TemporaryServer | None) -> TemporaryServer | None:
    """The early server if Prefect would have started one (no API URL in its settings, and
    temporary servers allowed), with ``PREFECT_API_URL`` exported for processes started from
    now on; otherwise it is stopped and ``None`` returned."""
    from prefect.settings import get_current_settings

    if server is None:
        return None
    settings = get_current_settings()
    if settings.api.url or not settings.server.ephemeral.enabled:
        server.stop()
        return None
    os.environ["PREFECT_API_URL"] = server.api_url
    return server


def use(server: TemporaryServer) -> None:
    """Wait for ``server`` and point this process (every thread) and its workers at it."""
    server.wait_ready()
    os.environ["PREFECT_API_URL"] = server.api_url  # again: a port taken meanwhile means a new one
    prefect_private.refresh_settings()
