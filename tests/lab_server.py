"""A real JupyterLab for the browser tests: 127.0.0.1, a free port, a token, stopped by PID.

(Not named jupyterlab_server.py: tests/ is on sys.path and that name would shadow the
`jupyterlab_server` package JupyterLab itself imports.)

``start_lab(root)`` starts ``jupyter lab`` on a notebook folder with its own config, data and
settings folders (so nothing of the user's is read or written), the announcements (news)
plugin disabled in ``page_config.json`` (its pop-up covers screenshots), the extension manager
read-only, and the app exposed as ``window.jupyterapp`` so a test can run JupyterLab commands.
``LabServer.stop()`` shuts the kernels down through the REST API, then ends the server by its
PID (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LabServer:
    proc: subprocess.Popen[bytes]
    port: int
    token: str
    root: Path
    log: Path
    _closed: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback
            raw = resp.read()
        return json.loads(raw) if raw else None

    def lab_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}&reset"

    def sessions(self) -> list[dict[str, Any]]:
        return list(self.api("GET", "/api/sessions"))

    def kernel_state(self, notebook: str) -> str | None:
        """``idle``/``busy``/``starting`` of the kernel of ``notebook``'s session, or None."""
        for s in self.sessions():
            if s.get("path", "").endswith(notebook) and s.get("kernel"):
                return str(s["kernel"].get("execution_state"))
        return None

    def wait_kernel_idle(self, notebook: str, timeout: float = 60, settle: float = 0.3) -> None:
        """Wait until the notebook's kernel exists and stays ``idle`` for ``settle`` seconds."""
        deadline = time.monotonic() + timeout
        idle_since: float | None = None
        while time.monotonic() < deadline:
            state = self.kernel_state(notebook)
            if state == "idle":
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= settle:
                    return
            else:
                idle_since = None
            time.sleep(0.1)
        raise TimeoutError(
            f"the kernel of {notebook} was not idle within {timeout}s "
            f"(state {self.kernel_state(notebook)!r}); server log: {self.log}"
        )

    def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            for s in self.sessions():
                self.api("DELETE", f"/api/sessions/{s['id']}", timeout=10)
        except (OSError, urllib.error.URLError, ValueError):
            pass
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def start_lab(root: Path, home: Path, timeout: float = 60) -> LabServer:
    """Start JupyterLab serving ``root``; ``home`` holds its config, data, settings and log."""
    config_dir = home / "config"
    (config_dir / "labconfig").mkdir(parents=True, exist_ok=True)
    page_config = {"disabledExtensions": {ANNOUNCEMENTS: True}}
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps(page_config))
    for sub in ("data", "runtime", "settings", "workspaces"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    token = secrets.token_hex(16)
    log = home / "jupyterlab.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
        f"--IdentityProvider.token={token}",
        "--LabApp.extension_manager=readonly",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        f"--LabApp.user_settings_dir={home / 'settings'}",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = LabServer(proc=proc, port=port, token=token, root=root, log=log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()}")
        try:
            server.api("GET", "/api/status", timeout=2)
            return server
        except (OSError, urllib.error.URLError, ValueError):
            time.sleep(0.2)
    server.stop()
    raise TimeoutError(f"JupyterLab did not answer within {timeout}s:\n{log.read_text()}")
