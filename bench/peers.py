"""The peers: Parsl (HighThroughputExecutor), Dask (LocalCluster) and ProcessPoolExecutor, each
measured on the same shapes as dflow_nb's engine, in the same run, in its own venv.

Why: a ratio against a number taken elsewhere means little on a loaded 2-core machine, so every
peer runs next to dflow_nb in the same ``make bench``. Each peer has its own cached venv
(``bench/.venv-parsl``, ``bench/.venv-dask``; gitignored, made on first use with pip) so its
pins never leak into dflow_nb's environment. ProcessPoolExecutor needs only the standard library
and is the floor: a warm pool of 2 processes, nothing recorded.

Each case runs in a fresh interpreter. "cold" is the first run (starting the executor included);
"warm" the median of further runs with the executor kept. The task is the engine bench's:
``int -> int + 1``; a fan-out sums the results, a chain feeds each result to the next task.
``cpu`` is the parent process's CPU time (user + system, all threads) per task in the warm runs:
what the submitting process spends per task, which for dflow_nb is the kernel.

    python3 bench/peers.py --peer pool --case fan --size 1000 --warm 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PEERS = ("pool", "parsl", "dask")
PIP_NAMES = {"parsl": ["parsl"], "dask": ["dask[distributed]"]}
CASES = ("fan", "chain")

PROGRAM = r"""
import json, os, statistics, sys, tempfile, time

def inc(x):
    return x + 1

def start(peer, workdir):
    if peer == "pool":
        from concurrent.futures import ProcessPoolExecutor
        ex = ProcessPoolExecutor(max_workers=2)
        return ex.submit, lambda f: f.result(), ex.shutdown
    if peer == "dask":
        from dask.distributed import Client, LocalCluster
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        def stop():
            client.close(); cluster.close()
        return (lambda fn, x: client.submit(fn, x, pure=False)), (lambda f: f.result()), stop
    if peer == "parsl":
        import parsl
        from parsl.config import Config
        from parsl.executors import HighThroughputExecutor
        from parsl.providers import LocalProvider
        cfg = Config(executors=[HighThroughputExecutor(
            label="htex", max_workers_per_node=2, address="127.0.0.1",
            provider=LocalProvider(init_blocks=1, min_blocks=1, max_blocks=1))],
            run_dir=os.path.join(workdir, "runinfo"))
        dfk = parsl.load(cfg)
        app = parsl.python_app(inc, data_flow_kernel=dfk)
        return (lambda fn, x: app(x)), (lambda f: f.result()), dfk.cleanup
    raise ValueError(peer)

def run(submit, result, case, size):
    t0 = time.perf_counter()
    if case == "fan":
        futs = [submit(inc, i) for i in range(size)]
        got = sum(result(f) for f in futs)
        want = size * (size + 1) // 2
    else:
        x = 0
        for _ in range(size):
            x = result(submit(inc, x))
        got, want = x, size
    elapsed = time.perf_counter() - t0
    if got != want:
        raise RuntimeError("%s x%d: got %r, expected %r" % (case, size, got, want))
    return elapsed

def main():
    peer, case, size, warm = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    workdir = os.path.abspath("peer-work")  # in the temporary folder peer_time removes
    t0 = time.perf_counter()
    submit, result, stop = start(peer, workdir)
    started = time.perf_counter() - t0
    cold = started + run(submit, result, case, size)
    times, cpus = [], []
    for _ in range(warm):
        c0 = time.process_time()
        times.append(run(submit, result, case, size))
        cpus.append((time.process_time() - c0) / size)
    stop()
    out = {"cold": cold}
    if warm:
        out |= {"warm": statistics.median(times), "cpu": statistics.median(cpus), "samples": times}
    print(json.dumps(out))


if __name__ == "__main__":  # Dask starts its nannies by spawn, which imports this file again
    main()
"""


def venv_python(peer: str) -> Path:
    """The interpreter a peer runs under: its own venv, or this one for the standard library."""
    if peer == "pool":
        return Path(sys.executable)
    return BENCH_DIR / f".venv-{peer}" / "bin" / "python"


def ensure_peer(peer: str) -> Path:
    """Create the peer's venv and pip install it if it is not importable yet; its python."""
    python = venv_python(peer)
    if peer == "pool":
        return python
    if not python.exists():
        print(f"creating {python.parent.parent} and installing {peer} (once)...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(python.parent.parent)
    module = "dask.distributed" if peer == "dask" else peer
    probe = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True)
    if probe.returncode != 0:
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run(pip + PIP_NAMES[peer], check=True)
    return python


def peer_version(peer: str) -> str:
    """The peer's version (Python's for the pool), printed next to its numbers."""
    if peer == "pool":
        return "Python " + sys.version.split()[0]
    code = f"import importlib.metadata as m; print(m.version({peer!r}))"
    out = subprocess.run([str(venv_python(peer)), "-c", code], capture_output=True, text=True)
    return f"{peer} {out.stdout.strip() or '?'}"


def peer_time(peer: str, case: str, size: int, warm: int = 3, timeout: float = 600) -> dict:
    """Run one case under the peer in a fresh interpreter and temporary folder; its JSON."""
    if peer not in PEERS or case not in CASES:
        raise ValueError(f"unknown peer/case {peer!r}/{case!r}; expected {PEERS} / {CASES}")
    python = ensure_peer(peer)
    with tempfile.TemporaryDirectory(prefix=f"bench-{peer}-") as cwd:
        script = Path(cwd) / "bench_peer.py"
        script.write_text(PROGRAM)
        env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        try:
            proc = subprocess.run(
                [str(python), script.name, peer, case, str(size), str(warm)],
                cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"{peer} {case} x{size}: did not end within {timeout:g} s") from exc
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{peer} {case} x{size} failed: {tail}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    """Script entry: one peer, one case, one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=PEERS, default="pool")
    parser.add_argument("--case", choices=CASES, default="fan")
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--warm", type=int, default=3)
    args = parser.parse_args(argv)
    out: dict[str, Any] = peer_time(args.peer, args.case, args.size, args.warm)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
