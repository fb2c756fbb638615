"""A STAND-IN for PBS and LSF: ``qsub``/``qstat``/``qdel`` and ``bsub``/``bjobs``/``bkill``.

Why a stand-in: neither scheduler can be installed here (OpenPBS and Torque are not in Debian's
registry, LSF is proprietary), while Slurm runs for real (tests/slurm_cluster.py). This module
answers the six commands in the output formats DPDispatcher parses (``qstat -x`` rows with the
state letter before the queue, ``bjobs`` rows with STAT third, ``Job <N> is submitted``), queues
each job for a moment (so a step is seen Pending), runs its script with ``sh`` in the folder it
was submitted from, in its own process group, and ``qdel``/``bkill`` kill that group. It checks
the dispatcher's side of those batch types, not PBS or LSF themselves.

`install(bin_dir, state_dir)` writes the six commands; put ``bin_dir`` first on ``PATH``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["install"]

COMMANDS = ("qsub", "qstat", "qdel", "bsub", "bjobs", "bkill")
QUEUE_SECONDS = 1.0


def install(bin_dir: Path, state_dir: Path) -> dict[str, str]:
    """Write the commands into `bin_dir`; return the environment they need."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    me = Path(__file__).resolve()
    for name in COMMANDS:
        cmd = bin_dir / name
        cmd.write_text(f'#!/bin/sh\nexec {sys.executable} {me} {name} "$@"\n')
        cmd.chmod(0o755)
    return {"BATCH_STANDIN_DIR": str(state_dir)}


def _state_dir() -> Path:
    return Path(os.environ["BATCH_STANDIN_DIR"])


def _job_file(job: str) -> Path:
    return _state_dir() / f"{job.split('.')[0]}.json"


def _read(job: str) -> dict[str, object] | None:
    try:
        return dict(json.loads(_job_file(job).read_text()))
    except (OSError, ValueError):
        return None


def _write(job: str, data: dict[str, object]) -> None:
    tmp = _job_file(job).with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, _job_file(job))


def _new_id() -> str:
    counter = _state_dir() / "counter"
    fd = os.open(counter, os.O_RDWR | os.O_CREAT)
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
        n = int(os.read(fd, 32) or b"0") + 1
        os.lseek(fd, 0, 0)
        os.ftruncate(fd, 0)
        os.write(fd, str(n).encode())
    finally:
        os.close(fd)
    return str(n)


def _submit(script: str) -> str:
    job = _new_id()
    path = Path(os.getcwd()) / f".standin-{job}.sh"
    path.write_text(script)
    _write(job, {"state": "Q", "cwd": os.getcwd(), "script": str(path)})
    subprocess.Popen(  # noqa: S603 - our own runner
        [sys.executable, __file__, "_run", job],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return job


def _run(job: str) -> None:
    time.sleep(QUEUE_SECONDS)
    data = _read(job) or {}
    if data.get("state") != "Q":
        return  # deleted while queued
    # bash, as PBS and LSF run a job for a user whose shell is bash (the script uses `source`);
    # BATCH_STANDIN_SHELL=sh imitates a site whose shell cannot run DPDispatcher's script
    shell = os.environ.get("BATCH_STANDIN_SHELL", "bash")
    proc = subprocess.Popen([shell, str(data["script"])], cwd=str(data["cwd"]))  # noqa: S603
    _write(job, dict(data, state="R", pgid=os.getpgid(0)))
    code = proc.wait()
    data = _read(job) or data
    if data.get("state") == "R":
        _write(job, dict(data, state="F", exit=code))


def _kill(job: str) -> int:
    data = _read(job)
    if data is None:
        return 1
    _write(job, dict(data, state="F", exit=271))
    if data.get("pgid"):
        try:
            os.killpg(int(data["pgid"]), signal.SIGKILL)  # type: ignore[call-overload]
        except ProcessLookupError:
            pass
    return 0


def main(argv: list[str]) -> int:
    name, args = argv[0], argv[1:]
    if name == "_run":
        _run(args[0])
        return 0
    if name == "qsub":
        job = _submit(Path(args[-1]).read_text())
        print(f"{job}.standin")
        return 0
    if name == "bsub":
        job = _submit(sys.stdin.read())
        print(f"Job <{job}> is submitted to default queue <normal>.")
        return 0
    if name in ("qdel", "bkill"):
        return _kill(args[-1])
    if name == "qstat":
        job = args[-1]
        data = _read(job)
        if data is None:
            print(f"qstat: Unknown Job Id {job}", file=sys.stderr)
            return 153
        print("Job id            Name             User              Time Use S Queue")
        print("----------------  ---------------- ----------------  -------- - -----")
        print(f"{job:<17} standin          root              00:00:00 {data['state']} workq")
        return 0
    if name == "bjobs":
        job = args[-1]
        data = _read(job)
        if data is None:
            print(f"Job <{job}> is not found", file=sys.stderr)
            return 255
        stat = {"Q": "PEND", "R": "RUN"}.get(str(data["state"]))
        if stat is None:
            stat = "DONE" if data.get("exit") == 0 else "EXIT"
        print("JOBID   USER    STAT  QUEUE      FROM_HOST   EXEC_HOST   JOB_NAME   SUBMIT_TIME")
        print(
            f"{job:<7} root    {stat:<5} normal     localhost   localhost   standin    Nov 25 12:00"
        )
        return 0
    print(f"batch_standin: unknown command {name}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
