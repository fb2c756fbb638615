"""The dispatcher pod's program: run one step as an HPC job through DPDispatcher.

`DispatcherExecutor.render` (``dispatcher.py``) embeds this file's source, followed by a call
of `main` with the step's configuration, as the script of the template a step runs instead of
its own. So this module must stay self-contained: the standard library and ``dpdispatcher``
only, because on Argo it runs in the dispatcher image, where dflow_nb is not installed.

What it does, in order:

1. Stage: the step's input files (pod paths such as ``/tmp/inputs/artifacts/a``) are linked
   into ``<stage>/task/<relative path>``, next to the step's own script (its ``/tmp`` paths
   rewritten to ``$(pwd)/tmp``, which the job replaces by its work folder) and ``env.sh``, the
   step's environment (parameter values travel there, never on a command line).
2. Submit with DPDispatcher (Slurm, PBS, LSF, Shell; a local or SSH context) and poll: the job's
   state goes to ``$DFLOW_NB_POD_STATUS`` (the in-kernel engine shows a queued job as Pending
   with the scheduler's reason) and to the log; the job's output is streamed into the log.
3. On SIGTERM (the step terminated, stopped or timed out), cancel the job with the
   scheduler (``scancel``) before exiting.
4. Bring back the output files (whatever exists; the engine reports missing ones) and exit
   with the job's own exit code, so retries and ``continue_on_failed`` work as for any pod.

Jobs are not resubmitted by DPDispatcher unless the machine's ``retry_count`` asks for it:
retrying is the step's ``retry_strategy``'s job.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import signal
import sys
import time
from typing import Any

EXIT_FILE = "dflow_nb_exit_code"
ENV_FILE = "dflow_nb_env.sh"
LOG_FILE = "log"
ERR_FILE = "err"


class _Terminated(BaseException):
    """SIGTERM: a BaseException, so that no `except Exception` in a library swallows it."""


def _say(text: str) -> None:
    # stderr: stdout is the job's own output (a script step's ``outputs.result``)
    print(f"dflow_nb dispatcher: {text}", file=sys.stderr, flush=True)


def _report(phase: str, message: str | None) -> None:
    """Tell the in-kernel engine (if any) the job's phase; a no-op on Argo."""
    target = os.environ.get("DFLOW_NB_POD_STATUS")
    if not target:
        return
    tmp = target + ".part"
    with open(tmp, "w") as f:
        json.dump({"phase": phase, "message": message}, f)
    os.replace(tmp, target)


def _link(src: str, dest: str) -> None:
    """Put `src` at `dest` without copying file data (a symlink; the job reads through it)."""
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    if os.path.lexists(dest):
        if os.path.isdir(dest) and not os.path.islink(dest):
            shutil.rmtree(dest)
        else:
            os.remove(dest)
    os.symlink(os.path.abspath(src), dest)


def _bring_back(src: str, dest: str) -> None:
    """Move an output from the job folder to the pod path it belongs at."""
    if not os.path.lexists(src):
        return
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    if os.path.isdir(dest) and not os.path.islink(dest):
        shutil.rmtree(dest)
    elif os.path.lexists(dest):
        os.remove(dest)
    shutil.move(src, dest)


def _job_command(cfg: dict[str, Any], python: str | None) -> str:
    argv = list(cfg["argv"])
    if python is not None and not cfg.get("wrap") and argv and argv[0] in ("python", "python3"):
        argv[0] = python
    run = " ".join(shlex.quote(a) for a in argv)
    if cfg.get("wrap"):
        run = f"{cfg['wrap']} {run}"
    if cfg.get("script"):
        run += " script"
    dirs = " ".join(shlex.quote(d) for d in cfg.get("top_dirs") or [])
    parts = [f". ./{ENV_FILE}"]
    if dirs:
        parts.append(f"mkdir -p {dirs}")
    if cfg.get("script"):
        # the script names its files as $(pwd)/tmp/...: make that the job's folder
        parts.append('sed -i "s#\\$(pwd)#$(pwd)#g" script')
    head = " && ".join(parts)
    code = f"$(cat {EXIT_FILE} 2>/dev/null || echo 1)"
    # (no doubled braces anywhere in this file: Argo would read them as a template tag)
    group = "{ " + run + f"; echo $? > {EXIT_FILE}; " + "}"
    return f"{head} && {group}; exit {code}"


def _write_env(path: str, names: list[str], extra: dict[str, str]) -> None:
    lines = []
    for name in names:
        if name in os.environ:
            lines.append(f"export {name}={shlex.quote(os.environ[name])}")
    for name, value in extra.items():
        lines.append(f"export {name}={value}")
    # what the dispatcher's own environment carried for the engine, not for the job
    lines.append("unset DFLOW_NB_TMP DFLOW_NB_POD_STATUS ARGO_PROGRESS_FILE")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def _pending_reason(machine: Any, job: Any, batch: str) -> str | None:
    """The scheduler's reason a job waits (Slurm's squeue %r), or None when unknown."""
    if batch.lower() != "slurm" or not job.job_id:
        return None
    try:
        code, _, out, _ = machine.context.block_call(
            f"squeue -h -o %r -j {shlex.quote(str(job.job_id))}"
        )
    except Exception:
        return None
    if code != 0:
        return None
    text = out.read().decode("utf-8", "replace").strip()
    return text if text and text != "None" else None  # Slurm says "None" for no reason


class _LogTail:
    """Copies the job's output file into this pod's log while the job runs.

    On this machine (a local context) it reads only what is new; over SSH it reads the file
    through DPDispatcher, which has no offset, and writes out what was not seen yet.
    """

    def __init__(self, context: Any, name: str, stream: Any, local: bool) -> None:
        self.context = context
        self.name = name
        self.stream = stream
        self.local = local
        self.seen = 0

    def pump(self) -> None:
        try:
            if self.local:
                with open(os.path.join(self.context.remote_root, self.name), "rb") as f:
                    f.seek(self.seen)
                    data = f.read()
                self.seen += len(data)
                text = data.decode("utf-8", "replace")
            else:
                if not self.context.check_file_exists(self.name):
                    return
                whole = self.context.read_file(self.name)
                text, self.seen = whole[self.seen :], max(self.seen, len(whole))
        except Exception:
            return
        if text:
            self.stream.write(text)
            self.stream.flush()


def main(paths: dict[str, Any], packed: str) -> int:
    """Run the configured job to its end; return the exit code the pod should have.

    `paths` holds the pod's paths (stage folder, script, input and output files); `packed` the
    rest of the configuration, JSON in base64 so that no engine rewrites a path in it.
    """
    from dpdispatcher import Machine, Resources, Submission, Task

    cfg = dict(json.loads(base64.b64decode(packed)), **paths)

    stage = os.path.abspath(cfg["stage"])
    task_dir = os.path.join(stage, "task")
    os.makedirs(task_dir, exist_ok=True)

    machine_dict = dict(cfg["machine"])
    machine_dict["local_root"] = stage
    machine_dict.setdefault("retry_count", 0)
    local = machine_dict.get("context_type", "") in (
        "LocalContext",
        "Local",
        "local",
        "LazyLocalContext",
    )
    if local and not machine_dict.get("remote_root"):
        machine_dict["remote_root"] = os.path.join(stage, "remote")
    password = os.environ.get("DFLOW_NB_DISPATCHER_PASSWORD")
    profile = machine_dict.get("remote_profile")
    if password and isinstance(profile, dict) and not profile.get("password"):
        # the password comes from the pod's environment (a Kubernetes Secret on Argo, the
        # kernel's environment in the in-kernel engine), never from the manifest
        machine_dict["remote_profile"] = dict(profile, password=password)
    batch = str(machine_dict.get("batch_type", ""))
    machine = Machine.load_from_dict(machine_dict)

    forward = [ENV_FILE]
    if cfg.get("script"):
        shutil.copyfile(cfg["script"], os.path.join(task_dir, "script"))
        forward.append("script")
    for pod_path, rel in cfg.get("forward") or []:
        if os.path.lexists(pod_path):
            _link(pod_path, os.path.join(task_dir, rel))
            forward.append(rel)
    backward = [rel for _, rel in cfg.get("backward") or []] + [EXIT_FILE]

    # on this machine, a bare `python3` is the interpreter running this program (the kernel's
    # in the in-kernel engine), with its import path: the job then imports what the notebook can
    python = sys.executable if local else None
    # paths in the script are the job folder's already: the runtime must not move /tmp/...
    extra: dict[str, str] = {}
    if python is not None:
        extra["PYTHONPATH"] = shlex.quote(os.pathsep.join(p for p in sys.path if p))
    _write_env(os.path.join(task_dir, ENV_FILE), list(cfg.get("env") or []), extra)

    task_dict = dict(cfg.get("task") or {})
    task_dict.update(
        command=_job_command(cfg, python),
        task_work_path="task/",
        forward_files=forward,
        backward_files=backward,
    )
    task_dict.setdefault("outlog", LOG_FILE)
    task_dict.setdefault("errlog", ERR_FILE)
    resources = Resources.load_from_dict(dict(cfg["resources"]))
    # a fresh id per run: DPDispatcher would otherwise "recover" an identical earlier job
    resources.envs = dict(resources.envs or {}, DFLOW_NB_RUN=f"{os.getpid()}-{time.time_ns()}")
    task = Task.load_from_dict(task_dict)
    submission = Submission(work_base=".", machine=machine, resources=resources, task_list=[task])

    def on_term(signum: int, frame: Any) -> None:
        raise _Terminated()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    label = batch or "batch"
    state_name = {2: "queued", 3: "running", 4: "ended", 5: "finished", 6: "completing"}
    code = 1
    submitted = False
    try:
        submission.generate_jobs()
        submission.upload_jobs()
        job = submission.belonging_jobs[0]
        _report("Pending", f"submitting to {label}")
        for attempt in range(int(cfg.get("submit_retries") or 0) + 1):
            try:
                job.submit_job()
                break
            except Exception as exc:
                if attempt >= int(cfg.get("submit_retries") or 0):
                    raise
                _say(f"submission failed ({exc}); retrying in {2**attempt} s")
                time.sleep(2**attempt)
        submitted = True
        if not job.job_id:
            raise RuntimeError(f"{label} did not accept the job (no job id); see the log above")
        _say(f"{label} job {job.job_id} submitted")
        tails = [
            _LogTail(machine.context, os.path.join("task", task_dict["outlog"]), sys.stdout, local),
            _LogTail(machine.context, os.path.join("task", task_dict["errlog"]), sys.stderr, local),
        ]
        if task_dict["errlog"] == task_dict["outlog"]:
            tails.pop()
        interval, cap = 0.2, float(cfg.get("check_interval") or 10.0)
        last = None
        resubmits, allowed = 0, int(machine_dict.get("retry_count") or 0)
        while True:
            time.sleep(interval)
            interval = min(cap, interval * 1.5)
            job.get_job_state()
            state = int(job.job_state)
            if state == 2:
                reason = _pending_reason(machine, job, batch)
                # the reason first: a node in the widget has room for ~20 characters
                message = (
                    f"queued: {reason}, {label} job {job.job_id}"
                    if reason
                    else f"queued, {label} job {job.job_id}"
                )
                phase = "Pending"
            else:
                message = (
                    f"{label} job {job.job_id} {state_name.get(state, 'in state ' + str(state))}"
                )
                phase = "Running"
            if message != last:
                _say(message)
                _report(phase, message)
                last = message
            if state != 2:
                for tail in tails:
                    tail.pump()
            if state == 4 and resubmits < allowed:
                # machine_dict["retry_count"]: DPDispatcher's own resubmission, asked for
                resubmits += 1
                _say(f"{label} job {job.job_id} failed; resubmitting ({resubmits}/{allowed})")
                job.submit_job()
                interval, last = 0.2, None
                _say(f"{label} job {job.job_id} submitted")
                continue
            if state in (5, 4, 7):  # finished, terminated, failed
                break
            if state == 100:
                raise RuntimeError(f"{label} reports job {job.job_id} in an unknown state")
        for tail in tails:
            tail.pump()
        machine.context.download(submission, check_exists=True, mark_failure=False)
        for pod_path, rel in cfg.get("backward") or []:
            _bring_back(os.path.join(task_dir, rel), pod_path)
        exit_file = os.path.join(task_dir, EXIT_FILE)
        try:
            with open(exit_file) as f:
                code = int(f.read().strip() or 1)
        except (OSError, ValueError):
            # the job ended without running the step's command (a batch script the shell
            # could not run, a job killed before it started): never report that as success
            code = 1
            _report("Failed", f"{label} job {job.job_id} ended without running the step")
            _say(
                f"{label} job {job.job_id} ended but the step's command never ran (no "
                f"{EXIT_FILE}); see the job's output above and the batch system's logs"
            )
            return code
        if code != 0:
            _report("Failed", f"{label} job {job.job_id} failed (exit code {code})")
            _say(f"{label} job {job.job_id} failed with exit code {code}")
        if cfg.get("clean", True) and code == 0:
            try:
                submission.clean_jobs()
            except Exception as exc:  # cleaning is a courtesy; the outputs are home
                _say(f"could not clean the job folder: {exc}")
        return code
    except _Terminated:
        if submitted:
            for job in submission.belonging_jobs:
                if job.job_id:
                    _say(f"terminated: cancelling {label} job {job.job_id}")
                    try:
                        machine.kill(job)
                    except Exception as exc:
                        _say(f"cancelling {label} job {job.job_id} failed: {exc}")
        _report("Failed", f"{label} job cancelled: the step was terminated")
        return 143
    except Exception as exc:
        _say(f"{type(exc).__name__}: {exc}")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _report("Failed", f"{label}: {first}")
        return 1
