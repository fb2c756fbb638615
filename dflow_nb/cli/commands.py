"""The ``dflow-nb`` commands (click): run, lint, list, get, logs, retry, debug.

Exit codes follow ``argo``'s: 0 when the workflow Succeeded (or the command did its job), 1
when it did not (or ``lint`` found problems), 2 on bad usage (an unknown option, a file that
is not a manifest, ``-p`` without ``=``). Runs of the in-kernel engine live in the working
folder (``--workdir``, by default ``config["debug_workdir"]``, itself ``.``), one folder per
run (docs/engine.md "Files"); ``--argo`` sends run/get/logs/retry to the Argo server
configured as for ``Workflow.submit()`` (``DFLOW_HOST``, ``DFLOW_TOKEN``, ``DFLOW_NAMESPACE``).
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from .. import __version__
from .files import InputError, apply_arguments, load, parse_parameters

__all__ = ["cli"]

_WORKDIR = click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding the runs (default: config['debug_workdir'], '.').",
)
_ARGO = click.option(
    "--argo", is_flag=True, help="Use the Argo server configured as for Workflow.submit()."
)
_OUTPUT = click.option(
    "-o",
    "--output",
    type=click.Choice(["view", "json"]),
    default="view",
    help="json: print the final Argo-shaped status as JSON.",
)


def _usage(exc: Exception) -> click.UsageError:
    return click.UsageError(str(exc))


def _workdir(path: Path | None) -> Path:
    from ..config import config

    return Path(path or config.get("debug_workdir") or ".").resolve()


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _view(plain: bool, title: str, output: str) -> Any:
    from .view import LiveView, PlainView

    out = sys.stderr if output == "json" else sys.stdout
    if plain or not _is_tty(out):
        return PlainView(out, title)
    return LiveView(out, title)


def _finish(status: dict[str, Any], output: str) -> None:
    if output == "json":
        click.echo(json.dumps(status, indent=2, default=str))
    sys.exit(0 if status.get("phase") == "Succeeded" else 1)


def _follow(run: Any, plain: bool, output: str, timeout: float | None) -> None:
    from .view import watch

    view = _view(plain, str(run.id), output)
    try:
        status = watch(
            run.status_dict,
            lambda: run.status.finished.is_set(),
            view,
            interval=0.2 if not hasattr(run, "client") else 1.0,
            timeout=timeout,
        )
    except KeyboardInterrupt:
        run.terminate()
        status = run.status_dict()
        view.close(status)
    if status.get("phase") in ("Pending", "Running"):
        click.echo(
            f"dflow-nb: workflow {run.id} still {status.get('phase')} after the timeout; "
            "terminated",
            err=True,
        )
        run.terminate()
        status = run.status_dict()
    _finish(status, output)


def _image_commands(items: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        image, sep, command = item.partition("=")
        if not sep or not image or not command.strip():
            raise click.UsageError(f"--image-command {item!r}: expected IMAGE=COMMAND")
        out[image] = shlex.split(command)
    return out


class _Group(click.Group):
    """Errors from the Argo server (unreachable, refused, not found) exit 1 with their message,
    not a traceback: they say what was refused and why already."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            from ..argo.errors import ArgoError

            if isinstance(exc, ArgoError):
                raise click.ClickException(str(exc)) from None
            raise


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dflow-nb")
def cli() -> None:
    """Run, lint and inspect Argo workflows (YAML, JSON, or dflow Python) without a cluster."""


@cli.command()
@click.argument("file")
@click.option(
    "-p",
    "--parameter",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a workflow parameter (repeatable), as argo submit -p.",
)
@click.option("--entrypoint", default=None, help="Start from this template instead.")
@_OUTPUT
@_WORKDIR
@_ARGO
@click.option("--plain", is_flag=True, help="Plain lines even on a terminal.")
@click.option(
    "--python-mode",
    type=click.Choice(["pool", "process", "inline"]),
    default=None,
    help="How the engine runs Python OPs (default: pool).",
)
@click.option(
    "--image-command",
    "image_commands",
    multiple=True,
    metavar="IMAGE=COMMAND",
    help="The command an image without 'command' runs locally (repeatable).",
)
@click.option("--timeout", type=float, default=None, help="Terminate after this many seconds.")
def run(
    file: str,
    parameters: tuple[str, ...],
    entrypoint: str | None,
    output: str,
    workdir: Path | None,
    argo: bool,
    plain: bool,
    python_mode: str | None,
    image_commands: tuple[str, ...],
    timeout: float | None,
) -> None:
    """Run FILE (a .yaml/.json manifest or FILE.py[:NAME]) and show its steps as they go."""
    from ..config import config

    try:
        manifest = apply_arguments(load(file), parse_parameters(parameters), entrypoint)
    except InputError as exc:
        raise _usage(exc) from None
    if argo:
        from ..argo import ArgoBackend

        handle: Any = ArgoBackend().submit(manifest)
    else:
        from ..engine.backend import LocalBackend

        config["local_entrypoints"] = {
            **dict(config.get("local_entrypoints") or {}),
            **_image_commands(image_commands),
        }
        handle = LocalBackend().submit(
            manifest, python_mode=python_mode, workdir=str(_workdir(workdir))
        )
    _follow(handle, plain, output, timeout)


@cli.command()
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--crd",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Argo's Workflow CRD (default: $DFLOW_NB_ARGO_CRD).",
)
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text")
def lint(files: tuple[str, ...], crd: Path | None, output: str) -> None:
    """Check manifests (and FILE.py[:NAME]) as Argo would before running them."""
    from .lint import lint_file

    findings: list[dict[str, Any]] = []
    notes: list[str] = []
    for f in files:
        try:
            found, said = lint_file(f, crd)
        except InputError as exc:
            raise _usage(exc) from None
        findings += found
        notes += said
    for note in dict.fromkeys(notes):
        click.echo(f"note: {note}", err=True)
    if output == "json":
        click.echo(json.dumps(findings, indent=2))
    else:
        for item in findings:
            where = f"{item['file']}:{item['line']}" if item.get("line") else item["file"]
            click.echo(f"{where}: {item['check']}: {item['message']}")
        n = len(findings)
        click.echo(f"{n} problem{'s' if n != 1 else ''} in {len(files)} file(s)", err=True)
    sys.exit(1 if findings else 0)


def _local_runs(root: Path) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    if not root.is_dir():
        return out
    from ..engine.journal import read_run

    for d in root.iterdir():
        if d.is_dir() and (d / "workflow.json").is_file():
            try:
                out.append((d.name, read_run(d)[1]))
            except FileNotFoundError:
                continue
            except (OSError, ValueError):
                out.append((d.name, {"phase": "Unknown", "message": "unreadable status file"}))
    return sorted(out, key=lambda r: (str(r[1].get("startedAt") or ""), r[0]))


@cli.command("list")
@_WORKDIR
@_OUTPUT
def list_runs(workdir: Path | None, output: str) -> None:
    """The runs in the working folder: name, phase, start, duration, progress."""
    from .view import duration

    runs = _local_runs(_workdir(workdir))
    if output == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "name": n,
                        **{
                            k: s.get(k)
                            for k in ("phase", "startedAt", "finishedAt", "progress", "message")
                        },
                    }
                    for n, s in runs
                ],
                indent=2,
            )
        )
        return
    click.echo(
        f"{'NAME':<40} {'PHASE':<10} {'STARTED':<21} {'DURATION':>8} {'PROGRESS':>9}  MESSAGE"
    )
    for name, s in runs:
        click.echo(
            f"{name:<40} {str(s.get('phase')):<10} {str(s.get('startedAt') or ''):<21} "
            f"{duration(s):>8} {str(s.get('progress') or ''):>9}  "
            f"{str(s.get('message') or '')[:60]}"
        )


def _attach(run_id: str, workdir: Path | None, argo: bool) -> Any:
    if argo:
        from ..argo import ArgoBackend

        return ArgoBackend().attach(run_id)
    from ..engine.backend import LocalRun, _FinishedRun
    from ..engine.journal import read_run

    run_dir = _workdir(workdir) / run_id
    if "/" in run_id or run_id in ("", ".", ".."):
        raise click.UsageError(f"{run_id!r} is not a workflow id")
    try:
        manifest, status = read_run(run_dir)
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from None
    run: LocalRun = _FinishedRun(manifest, status, run_id, run_dir)
    return run


@cli.command()
@click.argument("run_id", metavar="ID")
@_WORKDIR
@_ARGO
@_OUTPUT
def get(run_id: str, workdir: Path | None, argo: bool, output: str) -> None:
    """The status of run ID: its step tree, or the Argo-shaped status as JSON."""
    run = _attach(run_id, workdir, argo)
    status = run.status_dict()
    if output == "json":
        click.echo(json.dumps(status, indent=2, default=str))
        return
    view = _view(False, run_id, output) if _is_tty(sys.stdout) else None
    if view is not None:
        view.close(status)
        return
    from .view import plain_tree

    for line in plain_tree(status, run_id):
        click.echo(line)


@cli.command()
@click.argument("run_id", metavar="ID")
@click.argument("step", required=False)
@_WORKDIR
@_ARGO
def logs(run_id: str, step: str | None, workdir: Path | None, argo: bool) -> None:
    """The log of STEP of run ID (a name, key or node id), or of every pod step."""
    from ..argo_status import decode_nodes
    from ..debug import find_pod_node

    run = _attach(run_id, workdir, argo)
    if argo:
        try:
            click.echo(run.logs(step), nl=False)
        except (KeyError, ValueError) as exc:
            raise click.UsageError(str(exc)) from None
        return
    nodes = decode_nodes(run.status_dict())
    if step is not None:
        try:
            picked = [find_pod_node(nodes, step, f"workflow {run_id!r}")]
        except (KeyError, ValueError, TypeError) as exc:
            raise click.UsageError(str(exc).strip("\"'")) from None
    else:
        from .view import _order

        picked = [
            dict(nodes[i], id=i)
            for i in _order(nodes, list(nodes))
            if nodes[i].get("type") == "Pod"
        ]
    root = Path(run.run_dir).resolve()
    for n in picked:
        rel = n.get("dflowNbStepDir")
        log = (root / str(rel) / "log.txt").resolve() if rel else None
        if log is not None and root not in log.parents:  # the status file is input too
            raise click.UsageError(
                f"step {n.get('displayName')!r}: its folder {rel!r} is "
                f"outside the run folder {str(root)!r}; refused"
            )
        text = log.read_text(errors="replace") if log is not None and log.is_file() else ""
        name = n.get("displayName")
        for line in text.splitlines():
            click.echo(line if step is not None else f"{name}: {line}")


@cli.command()
@click.argument("run_id", metavar="ID")
@_WORKDIR
@_ARGO
@_OUTPUT
@click.option("--plain", is_flag=True, help="Plain lines even on a terminal.")
def retry(run_id: str, workdir: Path | None, argo: bool, output: str, plain: bool) -> None:
    """Run ID again, reusing the steps that succeeded; on Argo, Argo's retry in place."""
    run = _attach(run_id, workdir, argo)
    if argo:
        run.retry()
        _follow(run, plain, output, None)
        return
    status = run.status_dict()
    if status.get("phase") not in ("Failed", "Error"):
        raise click.UsageError(
            f"workflow {run_id} is {status.get('phase')}: only a Failed or Error run is retried "
            "(as argo retry); run the file again instead"
        )
    reused = sum(
        1
        for n in status.get("nodes", {}).values()
        if n.get("type") == "Pod"
        and n.get("phase") == "Succeeded"
        and ".onExit" not in str(n.get("name"))
        and ".hooks." not in str(n.get("name"))
    )
    new = run.resubmit()
    click.echo(f"dflow-nb: {new.id} retries {run_id}, reusing {reused} succeeded step(s)", err=True)
    _follow(new, plain, output, None)


@cli.command()
@click.argument("run_id", metavar="ID")
@click.argument("step")
@_WORKDIR
@_ARGO
@click.option("--no-pm", is_flag=True, help="Do not stop in the debugger at the exception.")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Scratch folder for the re-run (default: a new temporary one).",
)
def debug(
    run_id: str, step: str, workdir: Path | None, argo: bool, no_pm: bool, folder: Path | None
) -> None:
    """Re-run STEP of run ID here with the inputs it had; pdb at a Python OP's exception."""
    from ..debug import debug_step

    run = _attach(run_id, workdir, argo)
    try:
        result = debug_step(run, step, post_mortem=not no_pm, folder=folder)
    except (KeyError, ValueError, TypeError) as exc:
        raise click.UsageError(str(exc).strip("\"'")) from None
    sys.exit(0 if result.phase == "Succeeded" else 1)
