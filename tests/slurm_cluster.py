"""A real one-node Slurm cluster for the tests: munged, slurmctld and slurmd from Debian.

Why a module of its own: the dispatcher tests need a real scheduler (queueing, job states,
``scancel``), and the set-up has traps (every command needs ``SLURM_CONF``; CPUs and memory
above what ``slurmd -C`` reports drain the node; the default scheduler interval is 60 s). The
cluster lives in a private folder, listens on free loopback ports, and each daemon is stopped
by its PID. Nothing here is a stand-in: the jobs run under the real slurmstepd.

Needs root (Slurm's daemons run as SlurmUser=root here) and the Debian packages ``slurm-wlm``
and ``munge`` (``make sysdeps`` installs them).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from lab_server import free_port

__all__ = ["SlurmCluster", "slurm_missing"]

_BINARIES = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scancel")


def slurm_missing() -> str | None:
    """Why a real Slurm cannot start here, or None when it can."""
    missing = [
        b for b in _BINARIES if shutil.which(b) is None and not Path(f"/usr/sbin/{b}").exists()
    ]
    if missing:
        return (
            f"Slurm is not installed ({', '.join(missing)} missing): "
            "`make sysdeps` installs Debian's slurm-wlm and munge"
        )
    if os.geteuid() != 0:
        return "the one-node Slurm of the tests runs its daemons as root; run the tests as root"
    return None


def _exe(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _node_facts() -> tuple[str, int, int]:
    """Hostname, CPUs and memory as slurmd sees them (a node above them is drained)."""
    out = subprocess.run([_exe("slurmd"), "-C"], capture_output=True, text=True, check=True).stdout
    cpus = int(re.search(r"CPUs=(\d+)", out).group(1))  # type: ignore[union-attr]
    mem = int(re.search(r"RealMemory=(\d+)", out).group(1))  # type: ignore[union-attr]
    host = socket.gethostname().split(".")[0]
    return host, cpus, max(mem - 512, 256)


class SlurmCluster:
    """munged + slurmctld + slurmd in ``root``; `env` holds what Slurm commands need."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.host, self.cpus, self.memory = _node_facts()
        self.procs: list[subprocess.Popen[bytes]] = []
        self.conf = self.root / "slurm.conf"
        self.env = {"SLURM_CONF": str(self.conf)}

    def _write_config(self) -> None:
        r = self.root
        for d in ("munge", "state", "spool", "log"):
            (r / d).mkdir(parents=True, exist_ok=True)
        ctld, slurmd = free_port(), free_port()
        self.conf.write_text(
            f"""ClusterName=dflownbtest
SlurmctldHost={self.host}(127.0.0.1)
SlurmctldPort={ctld}
SlurmdPort={slurmd}
AuthType=auth/munge
AuthInfo=socket={r}/munge/munge.socket.2
CryptoType=crypto/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_interval=1,sched_min_interval=100000
ReturnToService=2
MinJobAge=600
MpiDefault=none
SwitchType=switch/none
NodeName={self.host} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.memory} State=UNKNOWN
PartitionName=debug Nodes={self.host} Default=YES MaxTime=INFINITE State=UP
"""
        )

    def _spawn(self, argv: list[str], log: str) -> None:
        out = open(self.root / "log" / log, "ab")  # noqa: SIM115 - the daemon owns it
        env = dict(os.environ, **self.env)
        self.procs.append(
            subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        )
        out.close()

    def start(self, timeout: float = 30.0) -> None:
        self._write_config()
        m = self.root / "munge"
        key = m / "munge.key"
        if key.exists():  # a folder used before: start afresh
            key.unlink()
        subprocess.run([_exe("mungekey"), "-c", "-k", str(key)], check=True, capture_output=True)
        key.chmod(0o400)
        # munged daemonizes itself unless -F; keep it in the foreground so its PID is ours
        self._spawn(
            [
                _exe("munged"),
                "-F",
                "--force",
                f"--key-file={key}",
                f"--socket={m}/munge.socket.2",
                f"--pid-file={m}/munged.pid",
                f"--log-file={m}/munged.log",
                f"--seed-file={m}/munged.seed",
            ],
            "munged.out",
        )
        self._wait(lambda: (m / "munge.socket.2").exists(), timeout, "munged's socket")
        self._spawn([_exe("slurmctld"), "-D", "-f", str(self.conf)], "slurmctld.out")
        self._spawn([_exe("slurmd"), "-D", "-f", str(self.conf), "-N", self.host], "slurmd.out")
        self._wait(self._node_idle, timeout, "the node to be idle in sinfo")

    def _node_idle(self) -> bool:
        r = self.run(["sinfo", "-h", "-N", "-o", "%t"], check=False)
        return r.returncode == 0 and r.stdout.strip().startswith("idle")

    def _wait(self, ready: object, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():  # type: ignore[operator]
                return
            for p in self.procs:
                if p.poll() is not None:
                    self.stop()
                    raise RuntimeError(
                        f"{p.args[0]} exited with {p.returncode} while waiting for {what}; "
                        f"logs in {self.root}/log"
                    )
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"timed out after {timeout} s waiting for {what}; logs in {self.root}/log"
        )

    def run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        """A Slurm command against this cluster."""
        return subprocess.run(
            argv, capture_output=True, text=True, check=check, env=dict(os.environ, **self.env)
        )

    def job_state(self, job_id: str) -> str:
        """``JobState`` from ``scontrol show job`` (kept for MinJobAge after the job ends)."""
        out = self.run(["scontrol", "show", "job", str(job_id)], check=False).stdout
        m = re.search(r"JobState=(\S+)", out)
        return m.group(1) if m else ""

    def queue(self) -> list[str]:
        """Job ids still in the queue."""
        return self.run(["squeue", "-h", "-o", "%i"]).stdout.split()

    def queue_or_empty(self) -> list[str]:
        """Job ids in the queue, or [] when squeue fails (the controller is gone)."""
        r = self.run(["squeue", "-h", "-o", "%i"], check=False)
        return r.stdout.split() if r.returncode == 0 else []

    def stop(self) -> None:
        # jobs first: a job's slurmstepd outlives slurmd, and would keep running after the tests
        if self.procs and all(p.poll() is None for p in self.procs):
            jobs = self.run(["squeue", "-h", "-o", "%i"], check=False).stdout.split()
            if jobs:
                self.run(["scancel", *jobs], check=False)
                deadline = time.monotonic() + 10
                while self.queue_or_empty() and time.monotonic() < deadline:
                    time.sleep(0.2)
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.clear()
