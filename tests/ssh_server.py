"""A real OpenSSH server on loopback for the dispatcher's SSH-context tests.

Why: DPDispatcher's SSH context (paramiko, SFTP uploads, remote ``sbatch``) is how most users
reach an HPC login node. Debian's ``openssh-server`` runs here as root on a free 127.0.0.1 port
with its own host key, a fresh client key and no PAM; stopped by its PID. ``SetEnv`` gives the
remote shells the variables a login node would have (``SLURM_CONF`` for the test Slurm).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from lab_server import free_port

__all__ = ["SSHServer", "sshd_missing"]

SSHD = Path("/usr/sbin/sshd")


def sshd_missing() -> str | None:
    """Why a real sshd cannot start here, or None when it can."""
    if not SSHD.exists() or shutil.which("ssh-keygen") is None:
        return "OpenSSH's server is not installed: `make sysdeps` installs Debian's openssh-server"
    if os.geteuid() != 0:
        return "the test sshd logs in as root (its own keys, loopback only); run the tests as root"
    return None


class SSHServer:
    """sshd on 127.0.0.1:`port`; log in as root with `key` (a private key file)."""

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = Path(root)
        self.env = dict(env or {})
        self.port = free_port()
        self.key = self.root / "client_key"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> None:
        r = self.root
        r.mkdir(parents=True, exist_ok=True)
        host_key = r / "host_key"
        for k in (host_key, self.key):
            for f in (k, k.with_suffix(".pub")):
                f.unlink(missing_ok=True)
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(k)],
                check=True,
                capture_output=True,
            )
        auth = r / "authorized_keys"
        auth.write_text(self.key.with_suffix(".pub").read_text())
        auth.chmod(0o600)
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder
        set_env = " ".join(f"{k}={v}" for k, v in self.env.items())
        conf = r / "sshd_config"
        conf.write_text(
            f"ListenAddress 127.0.0.1\nPort {self.port}\nHostKey {host_key}\n"
            f"PidFile {r}/sshd.pid\nAuthorizedKeysFile {auth}\nPermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
            "StrictModes no\nSubsystem sftp internal-sftp\nLogLevel ERROR\n"
            + (f"SetEnv {set_env}\n" if set_env else "")
        )
        log = open(r / "sshd.log", "ab")  # noqa: SIM115 - the daemon owns it
        self.proc = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(conf)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited with {self.proc.returncode}; see {r}/sshd.log")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"sshd did not listen on 127.0.0.1:{self.port} in {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
