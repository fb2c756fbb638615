"""dflow_nb's performance figures against the targets and the pydflow anchor (``make bench``).

Prints one table: our number, pydflow's measured in the same run, the ratio (anchor / ours,
so above 1 means faster than pydflow) and the target from DESIGN.md. Both sides compile with
the same builder code (bench/compile.py) and run workflows with the same program
(bench/engine.py: dflow_nb's in-kernel engine against pydflow's debug mode) in fresh
interpreters, so the ratios are like for like.

    .venv/bin/python bench/run.py [--size 10000] [--runs 7] [--repeat 3] [--no-anchor]
                                  [--no-engine] [--engine-size 50] [--engine-big 1000]
                                  [--no-storage] [--storage-mb 1024] [--storage-files 10000]
                                  [--storage-repeat 3] [--chain 100] [--peers pool,parsl,dask]
                                  [--repeats 10] [--profile PATH] [--smoke]

Issue 17's rows (bench/peers.py): Parsl HTEX, Dask LocalCluster and the ProcessPoolExecutor
floor, each in its own venv, on the warm 1,000-way fan-out and 100-step chain; the kernel's CPU
per step; repeated runs in one process and in fresh ones. They print below the table as ratios
measured in the same run. ``--profile PATH`` only profiles one warm big fan-out (cProfile, all
threads; the report is PATH.txt); ``--smoke`` runs everything tiny, with the floor only.

Storage rows (bench/storage.py) compare upload_artifact/download_artifact with the raw minio
client in the same run, against a local SeaweedFS server: their "pydflow" column is the raw
client's time, so the ratio is our throughput over the raw client's. The big file runs
``--storage-repeat`` times per side, alternating; its rows show the median times and the median
of the pairs' ratios, and every run is printed below the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any, Callable, NamedTuple

from anchor import compile_times, ensure_pydflow, measure_anchor
from engine import engine_time
from importtime import import_time

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


class Row(NamedTuple):
    """One line of the table; ``None`` means not measured (or failed, see the notes).

    ``target`` is a time ours must stay under; ``min_ratio`` a speed-up over the anchor
    (anchor / ours) ours must reach. ``ratio``, when given, is the ratio measured otherwise
    (the median of paired runs) instead of anchor / ours.
    """

    label: str
    ours: float | None
    anchor: float | None
    target: float | None
    min_ratio: float | None = None
    ratio: float | None = None


def machine() -> dict[str, Any]:
    """What the numbers depend on: usable cores, CPU model and Python version."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"nproc": cores, "cpu": model, "python": platform.python_version()}


def _attempt(what: str, notes: list[str], fn: Callable[[], Any]) -> Any:
    """Run one measurement; a failure becomes a note instead of hiding the other numbers."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        notes.append(f"{what}: {exc}")
        return None


def measure_ours(size: int, runs: int, repeat: int, notes: list[str]) -> dict[str, Any]:
    """dflow_nb's import and compile times, each in fresh interpreters like the anchor's."""
    return {
        "import": _attempt("import dflow_nb", notes, lambda: import_time("dflow_nb", runs=runs)),
        "runtime_import": _attempt(
            "import dflow_nb.runtime", notes, lambda: import_time("dflow_nb.runtime", runs=runs)
        ),
        "compile": _attempt(
            "compile dflow_nb",
            notes,
            lambda: compile_times(sys.executable, "dflow_nb", size, repeat),
        ),
    }


def engine_cases(size: int, big: int, anchor: bool, chain: int = 100) -> dict[str, tuple[str, int]]:
    """What bench/engine.py runs, by result key: (case, fan-out width).

    pydflow (``anchor``) runs the three shapes compared side by side; dflow_nb also runs the
    fan-out in ``python_mode="process"`` and the big fan-out the per-step overhead comes from.
    """
    cases = {"one": ("one", 1), "fan": ("fan", size), "slices": ("slices", size)}
    if not anchor:
        cases |= {"fan-process": ("fan-process", size), "fan-big": ("fan", big)}
        cases |= {"chain": ("chain", chain)}
    return cases


def measure_engine(
    python: Path | str,
    package: str,
    cases: dict[str, tuple[str, int]],
    warm: int,
    notes: list[str],
    attempts: int = 1,
) -> dict[str, Any]:
    """Each case in a fresh interpreter: cold time, and warm (best of ``warm`` reruns) if any.

    Every run is checked to end Succeeded, and its step outputs to add up to the expected sum;
    a case that fails is left out and becomes a note. ``attempts`` > 1 (the anchor only) reruns
    a failed case: pydflow's debug mode fails some fan-outs by a race of its own (see
    docs/benchmarks.md), and only a run that Succeeded is timed; the failures are noted.
    """
    out: dict[str, Any] = {}
    for key, (case, width) in cases.items():
        errors: list[str] = []
        for _ in range(attempts):
            try:
                times = engine_time(python, package, case, width, warm)
            except Exception as exc:  # noqa: BLE001 - reported as a note
                errors.append(str(exc))
                continue
            out[key] = times | {"size": width, "failed_runs": len(errors)}
            break
        if errors:
            done = "then Succeeded" if key in out else "none Succeeded"
            notes.append(f"{package} {case} x{width}: {len(errors)} failed run(s), {done}; "
                         f"first: {errors[0]}")  # fmt: skip
    return out


def compile_errors(side: str, measured: dict[str, Any]) -> list[str]:
    """Notes for workflow shapes that failed to build or compile (bench/compile.py's errors)."""
    times = measured.get("compile") or {}
    return [f"{side} {kind}: {t['error']}" for kind, t in times.items() if "error" in t]


def rows(ours: dict[str, Any], anchor: dict[str, Any], size: int) -> list[Row]:
    """Pair our figures with the anchor's; the compile target applies to ``to_dict`` alone.

    Engine rows: pydflow's debug mode has no warm pool, so its single (fresh-process) time is
    the anchor of both our cold and warm rows.
    """

    def pick(side: dict[str, Any], kind: str, phase: str) -> float | None:
        times = side.get("compile") or {}
        if "build" not in times.get(kind, {}):
            return None
        if phase == "total":
            return times[kind]["build"] + times[kind]["compile"]
        return times[kind][phase]

    out = [
        Row("import dflow_nb  (anchor: import dflow)", ours.get("import"), anchor.get("import"),
            0.15),
        Row("import dflow_nb.runtime  (anchor: dflow.python)", ours.get("runtime_import"),
            anchor.get("runtime_import"), 0.05),
    ]  # fmt: skip
    for kind, what in (("dag", f"{size:,}-task DAG"), ("fanout", f"{size:,}-way fan-out")):
        out.append(Row(f"{what}: to_dict()", pick(ours, kind, "compile"),
                       pick(anchor, kind, "compile"), 1.0))  # fmt: skip
        out.append(Row(f"{what}: build + to_dict()", pick(ours, kind, "total"),
                       pick(anchor, kind, "total"), None))  # fmt: skip
    if "engine" in ours:
        out += engine_rows(ours["engine"], anchor.get("engine") or {})
    if ours.get("storage"):
        out += storage_rows(ours["storage"])
    return out


def storage_rows(st: dict[str, Any]) -> list[Row]:
    """Ours against the raw minio client (in the anchor column); big file target >= 0.9x.

    Big file rows: median times of the alternated runs, and the median of the pairs' ratios.
    """
    big, n = f"{st['big_mb']:,} MiB", f"{st['small_files']:,} x 1 KiB"
    return [
        Row(f"S3 {big} up (anchor: minio)", st["big_up"], st["big_up_raw"], None, 0.9,
            st.get("big_up_ratio")),
        Row(f"S3 {big} down (anchor: minio)", st["big_down"], st["big_down_raw"], None,
            0.9, st.get("big_down_ratio")),
        Row(f"S3 {n} up (anchor: minio)", st["small_up"], st["small_up_raw"], None),
        Row(f"S3 {n} down (anchor: minio)", st["small_down"], st["small_down_raw"],
            None),
    ]  # fmt: skip


def storage_samples(st: dict[str, Any]) -> list[str]:
    """Every timed run of the big file, in order, with each pair's ratio (raw / ours)."""

    def secs(values: list[float]) -> str:
        return " ".join(f"{v:.2f}" for v in values)

    lines = []
    for kind, what in (("up", "upload"), ("down", "download")):
        if f"big_{kind}_samples" not in st:
            continue
        ratios = " ".join(f"{r:.2f}" for r in st[f"big_{kind}_ratios"])
        lines.append(
            f"S3 {st['big_mb']:,} MiB {what}, {st['repeat']} alternated runs: "
            f"dflow_nb {secs(st[f'big_{kind}_samples'])} s; "
            f"minio {secs(st[f'big_{kind}_raw_samples'])} s; "
            f"ratios {ratios} (median {st[f'big_{kind}_ratio']:.2f})"
        )
    return lines


def engine_rows(ours: dict[str, Any], anchor: dict[str, Any]) -> list[Row]:
    """Submit until Succeeded: one step, fan-outs, and the per-step overhead of pool mode."""

    def get(side: dict[str, Any], key: str, phase: str = "cold") -> float | None:
        value = (side.get(key) or {}).get(phase)
        return None if value is None else float(value)

    def width(key: str) -> int:
        return int((ours.get(key) or anchor.get(key) or {}).get("size", 0))

    out: list[Row] = []
    n, big = width("fan") or width("slices"), width("fan-big")
    shapes = [
        ("one", "1 step: submit + wait", "one", None, None),
        ("fan", f"{n}-way fan-out (with_param)", "fan", None, 30.0),
        ("slices", f"{n}-way fan-out by Slices", "slices", None, None),
        ("fan-process", f"{n}-way fan-out, python_mode=process", "fan", None, None),
        ("fan-big", f"{big:,}-way fan-out", None, 5.0, None),
        ("chain", f"{width('chain')}-step chain", None, None, None),
    ]
    for key, what, anchor_key, target, min_ratio in shapes:
        if key not in ours and (anchor_key is None or anchor_key not in anchor):
            continue
        pyd = get(anchor, anchor_key) if anchor_key else None
        out.append(Row(f"{what} (cold)", get(ours, key), pyd, target, min_ratio))
        out.append(Row(f"{what} (warm)", get(ours, key, "warm"), pyd, target, min_ratio))
    one, many = get(ours, "one", "warm"), get(ours, "fan-big", "warm")
    if one is not None and many is not None and big:
        per_step = (many - one) / big
        out.append(Row(f"pool overhead/step: ({big:,}-way - 1 step)/{big:,}", per_step, None, 0.01))
    return out


def measure_peers(
    fan: int, chain: int, warm: int, peers: list[str], notes: list[str]
) -> dict[str, Any]:
    """Parsl HTEX, Dask LocalCluster and the ProcessPoolExecutor floor on the warm shapes."""
    from peers import peer_time, peer_version

    out: dict[str, Any] = {}
    for peer in peers:
        got: dict[str, Any] = {"version": _attempt(f"{peer} version", notes,
                                                   lambda p=peer: peer_version(p))}  # fmt: skip
        for case, size in (("fan", fan), ("chain", chain)):
            got[case] = _attempt(
                f"{peer} {case} x{size}",
                notes,
                lambda p=peer, c=case, n=size: peer_time(p, c, n, warm),
            )
        out[peer] = got
    return out


def measure_repeats(big: int, rounds: int, notes: list[str]) -> dict[str, Any]:
    """``rounds`` warm fan-outs in one process, and ``rounds`` fresh processes (one run each):
    the last against the first, and the resident memory after each warm run."""
    warm = _attempt(
        "repeated warm runs", notes,
        lambda: engine_time(sys.executable, "dflow_nb", "fan", big, rounds, False),
    )  # fmt: skip
    fresh = [
        _attempt(f"fresh run {i}", notes,
                 lambda: engine_time(sys.executable, "dflow_nb", "fan", big, 0, False))
        for i in range(rounds)
    ]  # fmt: skip
    return {"warm": warm, "fresh": [f["cold"] for f in fresh if f]}


def target_lines(ours: dict[str, Any], peers: dict[str, Any], anchor: dict[str, Any], big: int,
                 repeats: dict[str, Any] | None) -> list[str]:  # fmt: skip
    """Issue 17's targets, each a ratio measured in this run, and whether it is met."""
    eng, pyd = ours.get("engine") or {}, (anchor.get("engine") or {})
    lines = ["targets (ratio = theirs / ours, measured in this run):"]

    def line(what: str, ratio: float | None, want: str, ok: bool | None) -> None:
        r = "-" if ratio is None else f"{ratio:.2f}x"
        lines.append(
            f"  {what:<62} {r:>9}  {want:<12} {'-' if ok is None else 'yes' if ok else 'NO'}"
        )

    def t(side: dict[str, Any] | None, phase: str = "warm") -> float | None:
        return None if not side else side.get(phase)

    fan, py_fan = t(eng.get("fan"), "cold"), t(pyd.get("fan"), "cold")
    ratio = py_fan / fan if fan and py_fan else None
    line("50-way fan-out cold: pydflow debug / dflow_nb", ratio, ">= 100x",
         None if ratio is None else ratio >= 100)  # fmt: skip
    for shape, key in (("warm 1,000-way fan-out", "fan-big"), ("warm 100-step chain", "chain")):
        mine = t(eng.get(key))
        for peer in ("parsl", "dask", "pool"):
            theirs = t((peers.get(peer) or {}).get("fan" if key == "fan-big" else "chain"))
            ratio = theirs / mine if mine and theirs else None
            want = "floor" if peer == "pool" else "> 1x"
            line(f"{shape}: {peer} / dflow_nb", ratio, want,
                 None if ratio is None or peer == "pool" else ratio > 1)  # fmt: skip
    cpu = (eng.get("fan-big") or {}).get("cpu")
    floor = ((peers.get("pool") or {}).get("fan") or {}).get("cpu")
    if cpu is not None:
        lines.append(f"  kernel CPU per step, warm {big:,}-way: {cpu * 1e3:.3f} ms"
                     f"  (< 0.5 ms: {'yes' if cpu < 5e-4 else 'NO'})")  # fmt: skip
    if cpu and floor:
        line(
            "kernel CPU/step: dflow_nb / ProcessPoolExecutor",
            cpu / floor,
            "<= 5x",
            cpu / floor <= 5,
        )
    if repeats:
        w = (repeats.get("warm") or {}).get("samples") or []
        rss = (repeats.get("warm") or {}).get("rss_mb") or []
        f = repeats.get("fresh") or []
        for what, s in (("warm runs in one process", w), ("fresh processes", f)):
            if len(s) >= 2:
                line(f"{len(s)} {what}: last / first ({s[0]:.2f} -> {s[-1]:.2f} s)",
                     s[-1] / s[0], "<= 1.10x", s[-1] / s[0] <= 1.10)  # fmt: skip
        if len(rss) >= 2:
            line(f"memory over the warm runs ({rss[0]:.0f} -> {rss[-1]:.0f} MiB)",
                 rss[-1] / rss[0], "<= 1.10x", rss[-1] / rss[0] <= 1.10)  # fmt: skip
    return lines


def render(
    table: list[Row], info: dict[str, Any], notes: list[str], extra: list[str] | None = None
) -> str:
    """Plain-text table: seconds, ratio anchor/ours, target and whether we meet it; then the
    ``extra`` lines (samples) and the notes."""

    def sec(v: float | None) -> str:
        return "-" if v is None else f"{v:.4f} s"

    lines = [
        "machine: {nproc} cores, {cpu}, Python {python}; anchor: pydflow {anchor}".format(**info),
        f"{'measure':<48} {'dflow_nb':>11} {'pydflow':>11} {'ratio':>8} {'target':>9}  ok",
    ]
    for r in table:
        value = (
            r.ratio if r.ratio is not None else (r.anchor / r.ours if r.ours and r.anchor else None)
        )
        digits = 2 if r.ratio is not None else 1
        ratio = "-" if value is None else f"{value:.{digits}f}x"
        target, ok = "-", "-"
        if r.target is not None:
            target = f"< {r.target:g} s"
            ok = "-" if r.ours is None else ("yes" if r.ours < r.target else "NO")
        elif r.min_ratio is not None:
            target = f">= {r.min_ratio:g}x"
            ok = "-" if value is None else ("yes" if value >= r.min_ratio else "NO")
        lines.append(
            f"{r.label:<48} {sec(r.ours):>11} {sec(r.anchor):>11} {ratio:>8} {target:>9}  {ok}"
        )
    lines += extra or []
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines)


def peer_lines(peers: dict[str, Any]) -> list[str]:
    """The peers' warm times (median of 3 runs in one process) and their submitting process'
    CPU per task, one line per peer and shape."""
    out = []
    for peer, got in peers.items():
        for case in ("fan", "chain"):
            r = got.get(case)
            if r:
                name = got.get("version") or peer
                out.append(
                    f"{name:<22} {case:<6} cold {r['cold']:.3f} s, warm {r['warm']:.3f} s, "
                    f"parent CPU/task {r['cpu'] * 1e3:.3f} ms"
                )
    return out


def profile(big: int, path: str) -> int:
    """Profile one warm big fan-out in the kernel (all threads); print where the report is."""
    import os

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    os.environ["BENCH_PROFILE"] = os.path.abspath(path)
    times = engine_time(sys.executable, "dflow_nb", "fan", big, 1, True)
    print(f"warm {big:,}-way fan-out: {times['warm']:.3f} s (unprofiled), "
          f"{times['profiled']:.3f} s profiled; report: {os.path.abspath(path)}.txt")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, save it as JSON; exit 1 if a dflow_nb measurement failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="steps/tasks to compile")
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per import")
    parser.add_argument("--repeat", type=int, default=3, help="compile rounds (best is kept)")
    parser.add_argument("--no-anchor", action="store_true", help="skip pydflow")
    parser.add_argument(
        "--engine",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run workflows (bench/engine.py); --no-engine skips it",
    )
    parser.add_argument(
        "--engine-size", type=int, default=50, help="width of the fan-outs run on both sides"
    )
    parser.add_argument(
        "--engine-big", type=int, default=1_000, help="width of the big fan-out (dflow_nb only)"
    )
    parser.add_argument(
        "--engine-warm",
        type=int,
        default=3,
        help="warm reruns per case after the cold run (the median is kept)",
    )
    parser.add_argument(
        "--anchor-attempts",
        type=int,
        default=5,
        help="pydflow runs per engine case until one Succeeds (its debug mode is racy)",
    )
    parser.add_argument(
        "--storage",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="artifact throughput against the raw minio client (bench/storage.py)",
    )
    parser.add_argument("--storage-mb", type=int, default=1024, help="size of the big file")
    parser.add_argument("--storage-files", type=int, default=10_000, help="number of small files")
    parser.add_argument(
        "--storage-repeat", type=int, default=3, help="alternated runs per side of the big file"
    )
    parser.add_argument("--chain", type=int, default=100, help="length of the chain")
    parser.add_argument(
        "--peers", default="pool,parsl,dask",
        help="comma-separated peers run on the warm shapes (bench/peers.py); '' for none",
    )  # fmt: skip
    parser.add_argument(
        "--repeats", type=int, default=10,
        help="warm runs in one process, and fresh processes, of the big fan-out (0: none)",
    )  # fmt: skip
    parser.add_argument(
        "--profile", metavar="PATH",
        help="only profile one warm run of the big fan-out (cProfile, all threads) to PATH; "
        "the report is PATH.txt",
    )  # fmt: skip
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the tests")
    args = parser.parse_args(argv)
    if args.smoke:
        args.size, args.runs, args.repeat, args.engine_size, args.engine_big = 200, 1, 1, 10, 20
        args.chain, args.repeats, args.storage, args.no_anchor = 5, 2, False, True
        args.peers = "pool"
    if args.profile:
        return profile(args.engine_big, args.profile)

    notes: list[str] = []
    ours = measure_ours(args.size, args.runs, args.repeat, notes)
    notes += compile_errors("dflow_nb", ours)
    if args.engine:
        cases = engine_cases(args.engine_size, args.engine_big, anchor=False, chain=args.chain)
        ours["engine"] = measure_engine(sys.executable, "dflow_nb", cases, args.engine_warm, notes)
    peers = [p for p in args.peers.split(",") if p] if args.engine else []
    ours["peers"] = measure_peers(args.engine_big, args.chain, 3, peers, notes) if peers else {}
    repeats = None
    if args.engine and args.repeats:
        repeats = measure_repeats(args.engine_big, args.repeats, notes)
    if args.storage:
        from storage import storage_times

        ours["storage"] = _attempt(
            "storage",
            notes,
            lambda: storage_times(args.storage_mb, args.storage_files, args.storage_repeat),
        )
    failed = len(notes) > 0
    anchor: dict[str, Any] = {}
    if not args.no_anchor:
        anchor = (
            _attempt(
                "pydflow anchor", notes, lambda: measure_anchor(args.size, args.runs, args.repeat)
            )
            or {}
        )
        notes += compile_errors("pydflow", anchor)
        if args.engine:
            python = _attempt("pydflow venv", notes, ensure_pydflow)
            if python is not None:
                cases = engine_cases(args.engine_size, args.engine_big, anchor=True)
                anchor["engine"] = measure_engine(
                    python, "dflow", cases, 0, notes, attempts=args.anchor_attempts
                )
    info = machine() | {"anchor": anchor.get("version", "not measured")}
    samples = storage_samples(ours["storage"]) if ours.get("storage") else []
    if args.engine:
        samples += peer_lines(ours["peers"])
        samples += target_lines(ours, ours["peers"], anchor, args.engine_big, repeats)
    ours["repeats"] = repeats
    print(render(rows(ours, anchor, args.size), info, notes, samples))
    try:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps({"machine": info, "ours": ours, "anchor": anchor}, indent=1))
    except OSError:
        pass
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
