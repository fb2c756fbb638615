"""The pod layer: run ONE container or script template as a local process, as a pod would.

The scheduler (``scheduler.py``) resolves everything above a pod (steps, DAGs, retries,
substitution) and hands a substituted template to `run_pod`, which returns what Argo's executor
would report: the phase, Argo's message, the exit code, ``outputs.result``, the output
parameters and where the output artifacts now live.

Why each piece is here:

- Each pod gets its own filesystem view. Templates write fixed paths (``/tmp/x``, ``/mnt/out``),
  often from parallel loop iterations, so every ``/tmp/...`` in the command, args, script, env
  values and artifact/parameter paths is rewritten into ``<step_dir>/tmp/...``, and every other
  absolute artifact or parameter path (and its occurrences in the text) into
  ``<step_dir>/root/...``. ``TMPDIR`` and ``DFLOW_NB_TMP`` point at ``<step_dir>/tmp``.
  Volume mounts are the exception: steps share files through them, so a mount path maps to
  ``<step_dir>/../volumes/<name>``, a folder the whole workflow sees.
- Scripts are staged executable at ``<step_dir>/script`` and run as ``command + args +
  [script]``, the order Argo's ``executeScript`` uses.
- The process runs in its own session: on timeout or cancellation the whole group gets
  SIGTERM, then SIGKILL after a grace period, like a pod being deleted. When the main process
  exits, what it left running is killed too, as it would be when the container stops. The group
  is on the kernel's lifeline (``lifeline.py``) while it runs: a kernel killed with SIGKILL
  takes it along.
- A pod is Pending until its process really starts: a Python OP may wait for a free pool
  worker, as an unschedulable pod waits for a node (Argo: Pending, the reason as message).
  ``PodRequest.on_state`` hears ``("Pending", why)`` and then ``("Running", None)``.
- Python OP steps (the bootstrap written by ``dflow_nb/python/template.py``) skip the
  interpreter start: ``pool`` runs the step runtime in a warm worker (``pool.py``), ``inline``
  in the calling thread (for ``%debug``), ``process`` as a normal script step.

Input artifacts are linked, not copied, however large they are: a file becomes a symlink, a
folder a real folder of symlinks to its entries (so files a step adds stay in its own folder).
A step that rewrites an input file in place therefore changes it upstream too, where Argo would
have given it a private copy; such a step should declare the artifact's ``mode``, which makes a
copy (the mode must not change the upstream file either). ``raw`` artifacts are written as files.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import posixpath
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..path_text import path_pattern
from .lifeline import guard, release
from .pool import RESULT_LIMIT, PoolOutcome, _Tail, _Tee, get_pool

__all__ = [
    "DEADLINE_MESSAGE",
    "PodRequest",
    "PodResult",
    "read_pod_status",
    "read_progress",
    "run_pod",
]

KERNEL_PYTHON_MARK = "# dflow_nb: kernel-python"
"""A script starting with this line runs with the kernel's interpreter (the HPC dispatcher)."""
POD_STATUS_FILE = "pod-status"
"""Where a pod may say it waits (``{"phase": "Pending", "message": ...}``), e.g. an HPC job."""
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
GRACE_SECONDS = 1.5
"""How long a process group has between SIGTERM and SIGKILL (Kubernetes gives 30 s)."""
DRAIN_SECONDS = 2.0
"""How long to wait for stdout's end after the main process exited and its group was killed."""


@dataclass
class PodRequest:
    """One pod to run: a substituted container/script template and the step's own folder."""

    node_id: str
    template: dict[str, Any]
    step_dir: Path
    input_artifacts: dict[str, Path]
    env: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None
    python_mode: str = "pool"
    local_entrypoints: dict[str, list[str]] = field(default_factory=dict)
    # absolute paths an image has (``/argosay``) -> where that program is on this machine
    path_aliases: dict[str, str] = field(default_factory=dict)
    # told ("Pending", why) while the pod waits for a worker, ("Running", None) when it starts
    on_state: Callable[[str, str | None], None] | None = None


@dataclass
class PodResult:
    """What Argo's executor would report for the pod."""

    phase: str
    message: str | None
    exit_code: int | None
    result: str | None
    output_parameters: dict[str, str]
    output_artifacts: dict[str, Path]
    started_at: float
    finished_at: float


class _PodError(Exception):
    """The pod could not start or save its outputs: the node becomes `phase` with this message."""

    def __init__(self, message: str, phase: str = "Error") -> None:
        super().__init__(message)
        self.phase = phase


# --------------------------------------------------------------------------------------------
# path isolation


def _norm(path: str) -> str | None:
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    return posixpath.normpath(path)


def _is_tmp(path: str) -> bool:
    return path == "/tmp" or path.startswith("/tmp/")


class _Remap:
    """The pod's filesystem view: ``/tmp`` and the template's absolute paths below step_dir."""

    def __init__(
        self, step_dir: Path, paths: list[str], mounts: dict[str, Path] | None = None
    ) -> None:
        self.tmp = step_dir / "tmp"
        self.root = step_dir / "root"
        self.mounts = {n: t for m, t in (mounts or {}).items() if (n := _norm(m)) and n != "/"}
        roots = {"/tmp", *self.mounts}
        for p in paths:
            n = _norm(p)
            if n and n != "/" and not _is_tmp(n):
                roots.add(n)
                # the folders above it too (`os.mkdir("/mnt/out")` for an output at
                # /mnt/out/part.json), but never a top-level folder such as /usr or /mnt
                parent = n.rsplit("/", 1)[0]
                while parent.count("/") >= 2:
                    roots.add(parent)
                    parent = parent.rsplit("/", 1)[0]
        self.roots = roots
        # A path starts after a non-path character and ends before one: `/var/tmp`, `/tmpfoo`
        # and `/hello.txt-2` are not `/tmp` or `/hello.txt`.
        self._re = path_pattern(roots)

    def path(self, path: str) -> Path:
        """Where the pod's absolute `path` lives on this machine."""
        n = _norm(path)
        if n is None:
            return Path(path)
        for mount in sorted(self.mounts, key=len, reverse=True):
            if n == mount or n.startswith(mount + "/"):
                return Path(str(self.mounts[mount]) + n[len(mount) :])
        if _is_tmp(n):
            return Path(str(self.tmp) + n[4:])
        return Path(str(self.root) + n)

    def text(self, text: str) -> str:
        """`text` with every occurrence of a remapped path rewritten."""
        return self._re.sub(lambda m: str(self.path(m.group(0))), text)

    def base_of(self, target: Path) -> Path:
        return self.tmp if _inside(target, self.tmp) else self.root


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or str(path).startswith(str(folder) + os.sep)


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


# --------------------------------------------------------------------------------------------
# input artifacts


def _farm(link: Path) -> None:
    """Turn a symlinked folder into a real folder of symlinks, so nothing is written upstream."""
    target = Path(os.readlink(link))
    if not target.is_absolute():
        target = link.parent / target
    link.unlink()
    link.mkdir()
    if target.is_dir():
        for child in target.iterdir():
            (link / child.name).symlink_to(child)


def _make_room(target: Path, base: Path) -> None:
    """Create `target`'s parents, never through a symlink that leads out of the step folder."""
    parent = target.parent
    chain: list[Path] = []
    p = parent
    while _inside(p, base) and p != base:
        chain.append(p)
        p = p.parent
    for p in reversed(chain):
        if p.is_symlink():
            _farm(p)
    parent.mkdir(parents=True, exist_ok=True)


def _parse_mode(mode: Any) -> int:
    if isinstance(mode, int):
        return mode
    text = str(mode).strip()
    return int(text, 8) if text.startswith("0") else int(text)


def _chmod_tree(path: Path, mode: int) -> None:
    if path.is_dir():
        for dirpath, _dirs, files in os.walk(path):
            for f in files:
                os.chmod(os.path.join(dirpath, f), mode)
    else:
        os.chmod(path, mode)


def _place_inputs(req: PodRequest, remap: _Remap) -> None:
    decls = list(((req.template.get("inputs") or {}).get("artifacts")) or [])
    decls.sort(key=lambda a: len(str(a.get("path") or "")))  # outer folders first
    for a in decls:
        name = a.get("name", "")
        path = a.get("path")
        if not path:
            continue
        target = remap.path(path)
        base = remap.base_of(target)
        src = req.input_artifacts.get(name)
        raw = a.get("raw")
        mode = a.get("mode")
        if src is not None:
            src = Path(src)
            if not src.exists():
                if a.get("optional"):
                    continue
                raise _PodError(f"input artifact {name!r}: {src} does not exist")
            _make_room(target, base)
            if target.is_dir() and not target.is_symlink():
                if src.is_dir():  # a nested artifact already made this folder: merge
                    for child in src.iterdir():
                        if not os.path.lexists(target / child.name):
                            (target / child.name).symlink_to(child.resolve())
                    continue
                shutil.rmtree(target)
            elif os.path.lexists(target):
                target.unlink()
            if mode is not None:
                if src.is_dir():
                    shutil.copytree(src, target, symlinks=False)
                else:
                    shutil.copy2(src, target)
                _chmod_tree(target, _parse_mode(mode))
            elif src.is_dir():
                # A real folder of symlinks: files the step adds stay in its own folder.
                target.mkdir()
                for child in src.iterdir():
                    (target / child.name).symlink_to(child.resolve())
            else:
                target.symlink_to(src.resolve())
        elif raw is not None:
            _make_room(target, base)
            if os.path.lexists(target) and not target.is_dir():
                target.unlink()
            data = raw.get("data") if isinstance(raw, dict) else raw
            target.write_text("" if data is None else str(data))
            if mode is not None:
                _chmod_tree(target, _parse_mode(mode))
        elif not a.get("optional"):
            raise _PodError(f"required artifact '{name}' not supplied")


# --------------------------------------------------------------------------------------------
# Python OP bootstrap

_MAIN_RE = re.compile(r"^main\(r'''(.*?)'''\)[ \t]*$", re.S | re.M)
_SYS_PATH_RE = re.compile(r"^sys\.path\[:0\] = (\[.*\])[ \t]*$", re.M)
_BOOTSTRAP_LINES = {"", "import sys", "from dflow_nb.runtime import main"}


@dataclass
class _PythonOP:
    spec: dict[str, Any]
    sys_path: list[str]
    simple: bool  # nothing but the bootstrap: the runtime can run it without the script


def _python_op(source: str) -> _PythonOP | None:
    """Recognise the step runtime's bootstrap; None for any other script."""
    if "from dflow_nb.runtime import main" not in source:
        return None
    m = _MAIN_RE.search(source)
    if m is None:
        return None
    try:
        spec = json.loads(m.group(1))
    except ValueError:
        return None
    if not isinstance(spec, dict):
        return None
    rest = source[: m.start()] + source[m.end() :]
    sys_path: list[str] = []
    for sp in _SYS_PATH_RE.finditer(rest):
        try:
            sys_path += [str(p) for p in json.loads(sp.group(1))]
        except ValueError:
            return _PythonOP(spec, [], False)
    rest = _SYS_PATH_RE.sub("", rest)
    simple = all(line.strip() in _BOOTSTRAP_LINES for line in rest.splitlines())
    return _PythonOP(spec, sys_path, simple)


def _last_runtime_line(log_path: Path) -> str | None:
    """The runtime's own last stderr line (`dflow_nb: OP ... failed ...`), else the last line."""
    try:
        with open(log_path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 65536))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    lines = [ln.strip() for ln in tail.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.startswith("dflow_nb:"):
            return ln
    return lines[-1] if lines else None


_INLINE_LOCK = threading.Lock()


def _run_inline(
    py: _PythonOP,
    *,
    env: dict[str, str],
    tmp_root: str,
    cwd: str,
    log_path: str,
    timeout: float | None,
    sys_path: list[str],
) -> PoolOutcome:
    """Run the step runtime in this thread: breakpoints and ``%debug`` work, nothing overlaps.

    Output goes to the log and to the caller's own stdout/stderr (the notebook), at Python
    level only: redirecting fds 1/2 would steal the kernel's own streams.
    """
    import tempfile

    from dflow_nb.runtime import run
    from dflow_nb.runtime.timeout import StepTimeout, deadline

    with _INLINE_LOCK:
        saved_env = dict(os.environ)
        saved_path = list(sys.path)
        saved_cwd = os.getcwd()
        tail = _Tail()
        timed_out = False
        with open(log_path, "a", encoding="utf-8") as log:
            out = _Tee(sys.stdout, log, tail)
            err = _Tee(sys.stderr, log)
            try:
                os.environ.clear()
                os.environ.update(env)
                tempfile.tempdir = None
                sys.path[:0] = sys_path
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    try:
                        with deadline(timeout):
                            code = run(py.spec, tmp_root=tmp_root, env=os.environ, cwd=cwd)
                    except StepTimeout:
                        code, timed_out = -signal.SIGKILL, True
            finally:
                os.environ.clear()
                os.environ.update(saved_env)
                tempfile.tempdir = None
                sys.path[:] = saved_path
                os.chdir(saved_cwd)
    return PoolOutcome(code, tail.getvalue(), timed_out)


# --------------------------------------------------------------------------------------------
# processes


def _kill_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _set_done(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def _wait_exit(proc: subprocess.Popen[bytes]) -> int:
    """Wait for the main process to exit, whatever still holds its stdout.

    (asyncio's own ``Process.wait()`` also waits for the pipes to close, which a background
    process left behind by the step can hold open for as long as it lives.)
    """
    code = proc.poll()
    if code is not None:
        return code
    loop = asyncio.get_running_loop()
    try:
        pidfd = os.pidfd_open(proc.pid)  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        pidfd = -1
    if pidfd >= 0:
        fut: asyncio.Future[None] = loop.create_future()
        try:
            loop.add_reader(pidfd, _set_done, fut)
            try:
                await fut
            finally:
                loop.remove_reader(pidfd)
        except NotImplementedError:
            pass
        finally:
            os.close(pidfd)
    delay = 0.001
    while (code := proc.poll()) is None:
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)
    return code


async def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the group, SIGKILL it after the grace period: what deleting a pod does.

    Cancelled again meanwhile (terminating a workflow cancels every task), the process still
    gets its grace (an HPC dispatcher cancels its job then) and is dead before this returns:
    a terminated run leaves no process behind. The SIGKILL is also armed on a timer thread, so
    it comes even if the caller's event loop is closed before the grace period ends.
    """
    _kill_group(proc.pid, signal.SIGTERM)
    timer = threading.Timer(GRACE_SECONDS, _kill_group, (proc.pid, signal.SIGKILL))
    timer.daemon = True
    timer.start()
    loop = asyncio.get_running_loop()
    cancelled = False
    deadline = loop.time() + GRACE_SECONDS
    while proc.poll() is None and (left := deadline - loop.time()) > 0:
        try:
            await asyncio.wait_for(_wait_exit(proc), left)
        except asyncio.TimeoutError:
            break
        except asyncio.CancelledError:
            cancelled = True
    _kill_group(proc.pid, signal.SIGKILL)  # and whatever the main process left running
    timer.cancel()
    while True:
        try:
            await _wait_exit(proc)
            break
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError


@dataclass
class _Ran:
    code: int | None  # the exit code as Argo shows it (128+N for a signal)
    signal: int | None = None
    timed_out: bool = False
    stdout: str = ""
    start_error: str | None = None


class _Pump:
    """Copies the process's stdout into the log and keeps its last 256 KiB for the result."""

    def __init__(self, fd: int, log: Any) -> None:
        self.fd = fd
        self.log = log
        self.tail: deque[bytes] = deque()
        self.size = 0
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = self.loop.create_future()
        os.set_blocking(fd, False)
        self.loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.close()
                return
            self.log.write(chunk)
            self.log.flush()
            self.tail.append(chunk)
            self.size += len(chunk)
            while len(self.tail) > 1 and self.size - len(self.tail[0]) > RESULT_LIMIT:
                self.size -= len(self.tail.popleft())

    def close(self) -> None:
        if not self.done.done():
            self.loop.remove_reader(self.fd)
            self.done.set_result(None)

    def text(self) -> str:
        return b"".join(self.tail)[-RESULT_LIMIT:].decode("utf-8", "replace")


async def _run_process(
    argv: list[str], *, cwd: Path, env: dict[str, str], log_path: Path, timeout: float | None
) -> _Ran:
    with open(log_path, "ab") as log:
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log.fileno(),
                cwd=str(cwd),
                env=env,
                start_new_session=True,
            )
        except FileNotFoundError:
            return _Ran(127, start_error=_start_error(argv[0], "no such file or directory"))
        except PermissionError:
            return _Ran(126, start_error=_start_error(argv[0], "permission denied"))
        except OSError as exc:
            return _Ran(126, start_error=_start_error(argv[0], exc.strerror or str(exc)))
        guard(proc.pid)  # the kernel SIGKILLed: the lifeline kills this group
        assert proc.stdout is not None
        pump = _Pump(proc.stdout.fileno(), log)
        timed_out = False
        try:
            try:
                await asyncio.wait_for(_wait_exit(proc), timeout)
            except asyncio.TimeoutError:
                timed_out = True
                await _stop(proc)
            # The container is gone: so is everything it left running.
            _kill_group(proc.pid, signal.SIGKILL)
            try:
                await asyncio.wait_for(asyncio.shield(pump.done), DRAIN_SECONDS)
            except asyncio.TimeoutError:
                pass  # a process that escaped the group still holds stdout: stop reading
        except asyncio.CancelledError:
            if proc.poll() is None:
                await _stop(proc)
            else:
                _kill_group(proc.pid, signal.SIGKILL)
            raise
        finally:
            pump.close()
            proc.stdout.close()
            if proc.poll() is not None:
                release(proc.pid)  # else a timer still SIGKILLs it: the lifeline keeps it
    rc = proc.returncode
    assert rc is not None
    if rc < 0:
        return _Ran(128 - rc, signal=-rc, timed_out=timed_out, stdout=pump.text())
    return _Ran(rc, timed_out=timed_out, stdout=pump.text())


def _start_error(exe: str, reason: str) -> str:
    if "/" not in exe and reason == "no such file or directory":
        return f'failed to find name in PATH: exec: "{exe}": executable file not found in $PATH'
    return f"fork/exec {exe}: {reason}"


def _entrypoint(image: str, table: dict[str, list[str]]) -> list[str] | None:
    """The local command for an image, matching with and without its tag or digest."""

    def untag(name: str) -> str:
        name = name.split("@", 1)[0]
        slash = name.rfind("/")
        colon = name.rfind(":")
        return name[:colon] if colon > slash else name

    if image in table:
        return list(table[image])
    bare = untag(image)
    if bare in table:
        return list(table[bare])
    for key, value in table.items():
        if untag(key) == bare:
            return list(value)
    return None


def _resolve_exe(argv: list[str], env: dict[str, str]) -> str | None:
    """Check the command exists, as the container runtime would before starting it."""
    exe = argv[0]
    if "/" in exe:
        return None if os.path.exists(exe) else _start_error(exe, "no such file or directory")
    found = shutil.which(exe, path=env.get("PATH", os.defpath))
    if found is None and exe in ("python", "python3"):
        argv[0] = sys.executable  # the python:* images' interpreter: use the kernel's
        return None
    if found is None:
        return _start_error(exe, "no such file or directory")
    return None


# --------------------------------------------------------------------------------------------
# outputs


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _find(path: str, remap: _Remap, workdir: Path) -> Path:
    """Where the pod's output `path` is: in its remapped place, or, for a file an image with
    ``WORKDIR /`` wrote by a relative name (``open("result.txt")`` for ``/result.txt``), in the
    working folder that stands in for ``/``."""
    target = remap.path(path)
    n = _norm(path)
    if os.path.lexists(target) or n is None or _is_tmp(n):
        return target
    alt = workdir / n.lstrip("/")
    if os.path.lexists(alt):
        return alt
    if n.startswith("/etc/") and os.path.isfile(n):
        # a file every image has (``/etc/hosts``) and the step did not write: the host's copy
        return Path(n)
    return target


def _collect_parameters(
    tmpl: dict[str, Any], remap: _Remap, workdir: Path, strict: bool
) -> tuple[dict[str, str], str | None]:
    out: dict[str, str] = {}
    error: str | None = None
    for p in (tmpl.get("outputs") or {}).get("parameters") or []:
        vf = p.get("valueFrom") or {}
        path = vf.get("path")
        if not path:
            continue  # other valueFrom kinds are resolved above the pod
        try:
            with open(_find(path, remap, workdir), "rb") as f:
                text = f.read().decode("utf-8", "replace")
            out[p["name"]] = text[:-1] if text.endswith("\n") else text
        except OSError as exc:
            if "default" in vf and vf["default"] is not None:
                out[p["name"]] = _param_text(vf["default"])
            elif strict and error is None:
                reason = "is a directory" if isinstance(exc, IsADirectoryError) else None
                error = f"failed to save outputs: open {path}: {reason or _reason(exc)}"
    return out, error


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _has_symlink(folder: Path) -> bool:
    stack = [str(folder)]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_symlink():
                    return True
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
    return False


def _copy(src: Path, dest: Path) -> None:
    if src.is_dir():
        try:
            shutil.copytree(src, dest, symlinks=False, ignore_dangling_symlinks=True)
        except shutil.Error:
            pass  # unreadable special files (e.g. an image's /etc): keep what could be copied
    else:
        shutil.copyfile(src, dest)


def _collect_artifacts(
    req: PodRequest, remap: _Remap, workdir: Path, strict: bool
) -> tuple[dict[str, Path], str | None]:
    decls = [a for a in (req.template.get("outputs") or {}).get("artifacts") or [] if a.get("path")]
    paths = [_norm(a["path"]) or a["path"] for a in decls]
    dest_root = req.step_dir / "outputs" / "artifacts"
    step_real = os.path.realpath(req.step_dir)
    out: dict[str, Path] = {}
    error: str | None = None
    for i, a in enumerate(decls):
        name, path = a["name"], paths[i]
        src = _find(path, remap, workdir)
        if not src.exists():
            host = Path(path)
            if path.startswith("/") and not _is_tmp(path) and host.exists():
                src = host  # a file of the image itself (e.g. /etc): take the machine's copy
            else:
                if strict and not a.get("optional") and error is None:
                    error = f"failed to save outputs: path {a['path']} does not exist"
                continue
        dest = dest_root / name
        dest_root.mkdir(parents=True, exist_ok=True)
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        elif os.path.lexists(dest):
            dest.unlink()
        movable = (
            _inside(src, req.step_dir)
            and not src.is_symlink()
            and os.path.realpath(src).startswith(step_real + os.sep)
            and src not in (remap.tmp, remap.root)
            and not any(_overlap(path, other) for j, other in enumerate(paths) if j != i)
            and not (src.is_dir() and _has_symlink(src))
        )
        try:
            if movable:
                os.replace(src, dest)
            else:
                _copy(src, dest)
        except OSError as exc:
            if strict and error is None:
                error = f"failed to save outputs: {a['path']}: {_reason(exc)}"
            continue
        out[name] = dest
    return out, error


# --------------------------------------------------------------------------------------------
# the pod


def _template_paths(tmpl: dict[str, Any]) -> list[str]:
    paths: list[str] = []
    for section in ("inputs", "outputs"):
        for a in (tmpl.get(section) or {}).get("artifacts") or []:
            if a.get("path"):
                paths.append(str(a["path"]))
    for p in (tmpl.get("outputs") or {}).get("parameters") or []:
        path = (p.get("valueFrom") or {}).get("path")
        if path:
            paths.append(str(path))
    return paths


def _volume_mounts(tmpl: dict[str, Any], body: dict[str, Any], step_dir: Path) -> dict[str, Path]:
    """Volume mounts as folders: shared by the workflow's steps in ``<step_dir>/../volumes``.

    A volume is how Argo steps share files without artifacts (a PVC), so its folder sits
    beside the step folders, in the workflow's folder. An ``emptyDir`` declared on the
    template lives and dies with the pod, so it stays in the step's own folder.
    """
    private = {
        v.get("name") for v in tmpl.get("volumes") or [] if isinstance(v, dict) and "emptyDir" in v
    }
    mounts: dict[str, Path] = {}
    for m in body.get("volumeMounts") or []:
        if not isinstance(m, dict) or not m.get("name") or not m.get("mountPath"):
            continue
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(m["name"]))
        base = step_dir if m["name"] in private else step_dir.parent
        target = base / "volumes" / name
        if m.get("subPath"):
            target = target / str(m["subPath"]).strip("/")
        target.mkdir(parents=True, exist_ok=True)
        mounts[str(m["mountPath"])] = target
    return mounts


def _result(
    phase: str,
    message: str | None,
    started: float,
    *,
    exit_code: int | None = None,
    result: str | None = None,
    params: dict[str, str] | None = None,
    arts: dict[str, Path] | None = None,
) -> PodResult:
    return PodResult(
        phase=phase,
        message=message,
        exit_code=exit_code,
        result=result,
        output_parameters=params or {},
        output_artifacts=arts or {},
        started_at=started,
        finished_at=time.time(),
    )


async def run_pod(req: PodRequest) -> PodResult:
    """Run the pod to completion and report it as Argo would.

    Never raises for a failing step (that is a Failed or Error result); cancelling the task
    kills the pod's process group (or its pool worker) and re-raises CancelledError.
    """
    started = time.time()
    tmpl = req.template
    kind = "script" if "script" in tmpl else "container" if "container" in tmpl else None
    if kind is None:
        return _result("Error", f"template {tmpl.get('name')!r} is not a pod template", started)
    body: dict[str, Any] = tmpl[kind] or {}
    step_dir = Path(req.step_dir)
    mounts = _volume_mounts(tmpl, body, step_dir)
    mounts.update({k: Path(v) for k, v in req.path_aliases.items()})
    remap = _Remap(step_dir, _template_paths(tmpl), mounts)
    workdir = step_dir / "workdir"
    log_path = step_dir / "log.txt"
    try:
        for d in (workdir, remap.tmp, remap.root):
            d.mkdir(parents=True, exist_ok=True)
        if body.get("workingDir"):
            workdir = remap.path(remap.text(str(body["workingDir"])))
            workdir.mkdir(parents=True, exist_ok=True)
        log_path.touch()
        _place_inputs(req, remap)
        # Output folders are not created: a container has /mnt but not /mnt/out, and scripts
        # such as the corpus' map-reduce `os.mkdir("/mnt/out")` rely on that. Top-level
        # folders of the paths the template names exist, as they do in an image.
        for path in _template_paths({"outputs": tmpl.get("outputs") or {}}):
            target = remap.path(path)
            base = remap.base_of(target)
            if _inside(target.parent, base) and target.parent != base:
                top = base / target.relative_to(base).parts[0]
                top.mkdir(exist_ok=True)
    except _PodError as exc:
        return _result(exc.phase, str(exc), started)
    except OSError as exc:
        return _result("Error", f"cannot prepare the step folder {step_dir}: {exc}", started)

    source = str(body.get("source") or "") if kind == "script" else ""
    py = _python_op(source) if kind == "script" else None

    env = dict(os.environ)
    env.update(req.env)
    for e in body.get("env") or []:
        if not isinstance(e, dict) or not e.get("name") or e.get("valueFrom"):
            continue
        value = "" if e.get("value") is None else str(e["value"])
        env[str(e["name"])] = value if py is not None else remap.text(value)
    env.update(
        TMPDIR=str(remap.tmp),
        DFLOW_NB_TMP=str(remap.tmp),
        ARGO_PROGRESS_FILE=str(step_dir / "progress"),
        DFLOW_NB_POD_STATUS=str(step_dir / POD_STATUS_FILE),
        ARGO_NODE_ID=req.node_id,
        ARGO_CONTAINER_NAME="main",
    )

    if py is not None and py.simple and req.python_mode in ("pool", "inline"):
        sys_path = [str(remap.path(p)) for p in py.sys_path]
        sys_path = [p for p in sys_path if os.path.isdir(p)]
        if req.python_mode == "pool":
            outcome = await get_pool().run_step(
                py.spec,
                tmp_root=str(remap.tmp),
                env=env,
                cwd=str(workdir),
                log_path=str(log_path),
                timeout=req.timeout,
                sys_path=sys_path,
                on_state=req.on_state,
            )
        else:
            _started(req)
            outcome = _run_inline(
                py,
                tmp_root=str(remap.tmp),
                env=env,
                cwd=str(workdir),
                log_path=str(log_path),
                timeout=req.timeout,
                sys_path=sys_path,
            )
        code = outcome.exit_code
        ran = _Ran(
            128 - code if code < 0 else code,
            signal=-code if code < 0 else None,
            timed_out=outcome.timed_out,
            stdout=outcome.stdout[-RESULT_LIMIT:],
        )
    else:
        command = [str(c) for c in body.get("command") or []]
        args = [remap.text(str(a)) for a in body.get("args") or []]
        if py is not None or source.startswith(KERNEL_PYTHON_MARK):
            # the interpreter that has dflow_nb (and, for the dispatcher, dpdispatcher) installed
            command = [sys.executable]
            # and the kernel's import path, so OPs imported from the notebook's modules load
            py_path = [os.path.abspath(p) for p in sys.path]
            if env.get("PYTHONPATH"):
                py_path.append(env["PYTHONPATH"])
            env["PYTHONPATH"] = os.pathsep.join(py_path)
        elif command:
            command = [remap.text(c) for c in command]
        else:
            image = str(body.get("image") or "")
            entry = _entrypoint(image, req.local_entrypoints)
            if entry is None:
                return _result(
                    "Error",
                    f"template {tmpl.get('name')!r}: image {image!r} has no command, and the "
                    "local engine cannot read an image's entrypoint. Set "
                    f'config["local_entrypoints"]["{image}"] = ["..."] to the command the '
                    "image runs.",
                    started,
                )
            command = entry
        argv = list(command) + args
        if kind == "script" and (source or py is not None):
            # a script template without source runs like a container (the corpus' argosay
            # `script: {args: [echo, "[]"]}` prints [] rather than writing it to a file)
            if py is not None:
                text = _SYS_PATH_RE.sub(lambda m: remap.text(m.group(0)), source)
            else:
                text = remap.text(source)
            script = step_dir / "script"
            script.write_text(text)
            script.chmod(0o755)  # Argo stages it executable: `command: [sh, -c]` runs it
            argv.append(str(script))  # after the args, as Argo's executeScript does
        start_error = _resolve_exe(argv, env)
        if start_error is not None:
            ran = _Ran(127, start_error=start_error)
        else:
            _started(req)
            ran = await _run_process(
                argv, cwd=workdir, env=env, log_path=log_path, timeout=req.timeout
            )

    if ran.start_error is not None:
        return _result("Failed", ran.start_error, started, exit_code=ran.code)
    ok = ran.code == 0 and not ran.timed_out
    try:
        params, perr = _collect_parameters(tmpl, remap, workdir, strict=ok)
        arts, aerr = _collect_artifacts(req, remap, workdir, strict=ok)
    except OSError as exc:
        params, arts, perr, aerr = {}, {}, f"failed to save outputs: {exc}", None
    stdout = ran.stdout[:-1] if ran.stdout.endswith("\n") else ran.stdout

    def finish(phase: str, message: str | None) -> PodResult:
        return _result(
            phase, message, started, exit_code=ran.code, result=stdout, params=params, arts=arts
        )

    if ran.timed_out:
        # the message is Argo's (Kubernetes' own); the log says which deadline, after its lines
        limit = f" of {req.timeout:g} s" if req.timeout else ""
        _log_line(log_path, f"dflow_nb: killed at the step's deadline{limit}")
        return finish("Failed", DEADLINE_MESSAGE)
    if ran.code == 0:
        error = perr or aerr
        return finish("Error", error) if error else finish("Succeeded", None)
    message = f"Error (exit code {ran.code})"
    if ran.signal is not None:
        message += f": killed by signal {_signal_name(ran.signal)}"
    elif py is not None:
        line = _last_runtime_line(log_path)
        if line:
            message += f": {line}"
    return finish("Failed", message)


def _log_line(log_path: Path, line: str) -> None:
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(line + "\n")
    except OSError:
        pass


def _started(req: PodRequest) -> None:
    if req.on_state is not None:
        req.on_state("Running", None)


def _signal_name(signum: int) -> str:
    try:
        name = signal.Signals(signum).name
    except ValueError:
        return f"{signum}"
    desc = signal.strsignal(signum)
    return f"{name} ({desc})" if desc else name


def read_pod_status(step_dir: Path) -> dict[str, str | None] | None:
    """What the pod last wrote to ``$DFLOW_NB_POD_STATUS``: its phase and message, if valid."""
    try:
        data = json.loads((Path(step_dir) / POD_STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("phase") not in ("Pending", "Running", "Failed"):
        return None
    message = data.get("message")
    return {"phase": data["phase"], "message": str(message)[:500] if message else None}


def read_progress(step_dir: Path) -> str | None:
    """The ``N/M`` progress an OP reported through ``ARGO_PROGRESS_FILE``, if any."""
    try:
        text = (Path(step_dir) / "progress").read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if re.fullmatch(r"\d+/\d+", text) else None
