"""The notebook magics: cells become OPs, outputs come back as variables.

``%%dflow_op`` turns a cell into a function OP (one annotated function, or the cell body with
its inputs and outputs declared on the magic line); ``%%dflow_shell`` does the same for a shell
script; ``%dflow_mode`` and ``%dflow_config`` set the backend; ``%dflow_get`` binds a step's
output in the namespace; ``%dflow_debug`` re-runs a step with its inputs (``dflow_nb/debug.py``).
Arguments are split with ``shlex`` (IPython's parse_argstring keeps quotes), and a bad line
raises UsageError showing the right form.

The cell's code runs in the user's namespace through ``shell.run_cell``, as any cell does, so
the OP's source is in IPython's line cache and travels with the manifest as source.
"""

from __future__ import annotations

import ast
import builtins
import json
import keyword
import re
import shlex
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

__all__ = ["DflowMagics", "parse_decl", "parse_op_line"]

DEBUG_USAGE = (
    "%dflow_debug WF STEP [--no-pm]: re-run STEP (a name, key or node id) of the finished "
    "workflow WF here with the inputs it had; --no-pm: do not stop in the debugger"
)
OP_USAGE = (
    "%%dflow_op [NAME] [--in NAME:TYPE ...] [--out NAME:TYPE ...] [--image IMAGE] "
    "[--python-packages PATH[,PATH]] [--timeout SECONDS] [--retries N]\n"
    "  e.g. %%dflow_op square --in x:int --out y:int   (the cell body computes y from x)\n"
    "  or   %%dflow_op   over a cell holding one annotated function"
)
SHELL_USAGE = (
    "%%dflow_shell NAME [--in NAME:TYPE ...] [--out NAME:TYPE ...] [--image IMAGE] "
    "[--timeout SECONDS] [--retries N]\n"
    "  e.g. %%dflow_shell count --in msg:str --out n:int   (the script sets $n from $msg)"
)
GET_USAGE = (
    "%dflow_get WORKFLOW STEP.OUTPUT [as NAME]   e.g. %dflow_get wf square.y as y\n"
    "  a looped step gives the list in item order; STEP[3].OUTPUT gives item 3"
)
_REF = re.compile(r"^(?P<step>[A-Za-z0-9_][A-Za-z0-9_.-]*?)(?:\[(?P<item>\d+)\])?$")
_LOOP_ITEM = re.compile(r"^\((\d+):")
# IPython's own names (the output cache, input history): binding one breaks later cells
_IPYTHON_NAMES = re.compile(r"^(_+|_i+|_i?\d+|_ih|_oh|_dh|In|Out|get_ipython|exit|quit)$")

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\[\], ()]*$")
_ARTIFACT = re.compile(r"^Artifact\((.+)\)$")


@dataclass
class Decl:
    """One ``NAME:TYPE`` of a magic line; ``artifact`` when TYPE is ``Artifact(...)``."""

    name: str
    type_text: str
    artifact: bool


@dataclass
class OpLine:
    """A parsed ``%%dflow_op`` / ``%%dflow_shell`` line."""

    name: str | None = None
    inputs: list[Decl] = field(default_factory=list)
    outputs: list[Decl] = field(default_factory=list)
    image: str | None = None
    python_packages: list[str] = field(default_factory=list)
    timeout: int | None = None
    retries: int | None = None


def check_target(name: str, usage: str, shell: Any = None) -> str:
    """``name`` if a magic may bind it in the notebook's namespace, else UsageError saying why.

    Refused: non-identifiers, keywords, builtins (``print``, ``__builtins__``), dunder names
    and IPython's own (``In``, ``Out``, ``_``, ``_i3``...): binding them breaks later cells.
    """
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise UsageError(f"NAME must be a Python identifier, got {name!r}\n{usage}")
    hidden = getattr(shell, "user_ns_hidden", None) or {}
    why = (
        "a builtin"
        if hasattr(builtins, name) or name == "__builtins__"
        else "a special (dunder) name"
        if name.startswith("__") and name.endswith("__")
        else "one of IPython's own names"
        if _IPYTHON_NAMES.match(name) or name in hidden
        else None
    )
    if why:
        raise UsageError(
            f"refusing to bind {name!r}: it is {why} and shadowing it breaks later cells; "
            f"choose another name (e.g. {name.strip('_') or 'value'}_out)\n{usage}"
        )
    return name


def parse_decl(text: str, usage: str) -> Decl:
    """``x:int`` / ``report:Artifact(Path)`` -> Decl, checked (the type is parsed, not run)."""
    name, sep, type_text = text.partition(":")
    if not sep or not _NAME.match(name) or not type_text:
        raise UsageError(f"bad declaration {text!r}: write NAME:TYPE, e.g. x:int\n{usage}")
    type_text = type_text.strip()
    if not _TYPE.match(type_text):
        raise UsageError(f"bad type {type_text!r} for {name!r}\n{usage}")
    try:
        ast.parse(type_text, mode="eval")
    except SyntaxError as exc:
        raise UsageError(f"bad type {type_text!r} for {name!r}: {exc.msg}\n{usage}") from None
    return Decl(name, type_text, bool(_ARTIFACT.match(type_text)))


def parse_op_line(line: str, usage: str = OP_USAGE) -> OpLine:
    """Split a magic line with shlex and read its options."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"cannot split the magic line: {exc}\n{usage}") from None
    out = OpLine()
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("--in", "--out"):
            i += 1
            while i < len(words) and not words[i].startswith("--"):
                decl = parse_decl(words[i], usage)
                (out.inputs if w == "--in" else out.outputs).append(decl)
                i += 1
            continue
        if w in ("--image", "--python-packages", "--timeout", "--retries"):
            if i + 1 >= len(words):
                raise UsageError(f"{w} needs a value\n{usage}")
            value = words[i + 1]
            if w == "--image":
                out.image = value
            elif w == "--python-packages":
                out.python_packages = [p for p in value.split(",") if p]
            else:
                try:
                    number = int(value)
                except ValueError:
                    raise UsageError(f"{w} takes a whole number, got {value!r}\n{usage}") from None
                if w == "--timeout":
                    out.timeout = number
                else:
                    out.retries = number
            i += 2
            continue
        if w.startswith("--"):
            raise UsageError(f"unknown option {w}\n{usage}")
        if out.name is not None:
            raise UsageError(f"only one NAME is taken, got {out.name!r} and {w!r}\n{usage}")
        out.name = check_target(w, usage)
        i += 1
    return out


def _annotation(decl: Decl) -> str:
    return decl.type_text


def op_source(line: OpLine, body: str) -> str:
    """The function OP a cell body stands for: inputs as arguments, outputs read at the end."""
    assert line.name is not None
    args = ", ".join(f"{d.name}: {_annotation(d)}" for d in line.inputs)
    ret = ", ".join(f"{json.dumps(d.name)}: {_annotation(d)}" for d in line.outputs)
    result = ", ".join(f"{json.dumps(d.name)}: {d.name}" for d in line.outputs)
    inner = textwrap.indent(textwrap.dedent(body).strip("\n") or "pass", "    ")
    return (
        "from pathlib import Path\n"
        "from typing import Any, Dict, List\n"
        "from dflow_nb.python import OP, Artifact, NestedDict\n\n\n"
        "@OP.function\n"
        f"def {line.name}({args}) -> {{{ret}}}:\n"
        f"{inner}\n"
        f"    return {{{result}}}\n"
    )


@magics_class
class DflowMagics(Magics):
    """``%%dflow_op``, ``%%dflow_shell``, ``%dflow_mode``, ``%dflow_config``, ``%dflow_get``."""

    def _run(self, code: str) -> None:
        result = self.shell.run_cell(code, store_history=False)  # type: ignore[union-attr]
        if not result.success:
            err = result.error_in_exec or result.error_before_exec
            raise UsageError(f"the cell failed: {err!r}")

    @cell_magic
    def dflow_op(self, line: str, cell: str) -> None:
        """Make a function OP from this cell and bind it to NAME."""
        spec = parse_op_line(line)
        ns = self.shell.user_ns  # type: ignore[union-attr]
        if spec.inputs or spec.outputs:
            if spec.name is None:
                raise UsageError(f"NAME is needed when the cell body is the OP\n{OP_USAGE}")
            if not spec.outputs:
                raise UsageError(f"declare at least one --out\n{OP_USAGE}")
            _check_syntax(cell)
            self._run(op_source(spec, cell))
            op = ns[spec.name]
        else:
            _check_syntax(cell)
            names = _function_names(cell)
            if len(names) != 1:
                raise UsageError(
                    "the cell must hold exactly one function (found "
                    f"{len(names)}: {', '.join(names) or 'none'}), or declare --in/--out\n"
                    + OP_USAGE
                )
            self._run(cell)
            func = ns[names[0]]
            from ..python import OP

            op = func if hasattr(func, "get_input_sign") else OP.function(func)
            target = spec.name or names[0]
            ns[target] = op
            spec.name = target
        _set_template_defaults(op, spec)

    @cell_magic
    def dflow_shell(self, line: str, cell: str) -> None:
        """Make a ShellOPTemplate from this cell and bind it to NAME."""
        spec = parse_op_line(line, SHELL_USAGE)
        if spec.name is None:
            raise UsageError(f"NAME is needed\n{SHELL_USAGE}")
        from ..config import config
        from ..io import InputArtifact, InputParameter, OutputArtifact, OutputParameter
        from ..python.template import kebab
        from ..templates import ShellOPTemplate

        lines = ["set -e"]
        for d in spec.inputs:
            if d.artifact:
                lines.append(f"{d.name}=/tmp/inputs/artifacts/{d.name}")
            else:
                lines.append(f"{d.name}='{{{{inputs.parameters.{d.name}}}}}'")
        lines.append(textwrap.dedent(cell).strip("\n"))
        lines.append("mkdir -p /tmp/outputs/parameters /tmp/outputs/artifacts")
        for d in spec.outputs:
            if d.artifact:
                lines.append(f'cp -r "${d.name}" /tmp/outputs/artifacts/{d.name}')
            else:
                lines.append(f'printf %s "${d.name}" > /tmp/outputs/parameters/{d.name}')
        t = ShellOPTemplate(
            name=kebab(spec.name),
            image=spec.image or config["util_image"],
            script="\n".join(lines) + "\n",
            timeout=spec.timeout,
            retry_strategy={"limit": spec.retries} if spec.retries else None,
        )
        t.inputs.parameters = {
            d.name: InputParameter(type=_simple_type(d.type_text))
            for d in spec.inputs
            if not d.artifact
        }
        t.inputs.artifacts = {
            d.name: InputArtifact(path=f"/tmp/inputs/artifacts/{d.name}")
            for d in spec.inputs
            if d.artifact
        }
        t.outputs.parameters = {
            d.name: OutputParameter(
                value_from_path=f"/tmp/outputs/parameters/{d.name}",
                type=_simple_type(d.type_text),
            )
            for d in spec.outputs
            if not d.artifact
        }
        t.outputs.artifacts = {
            d.name: OutputArtifact(path=f"/tmp/outputs/artifacts/{d.name}")
            for d in spec.outputs
            if d.artifact
        }
        self.shell.user_ns[check_target(spec.name, SHELL_USAGE, self.shell)] = t  # type: ignore[union-attr]

    @line_magic
    def dflow_mode(self, line: str) -> str:
        """``%dflow_mode debug`` (in-kernel engine) or ``%dflow_mode argo`` (Argo Workflows)."""
        from ..config import config

        mode = line.strip()
        modes = {"debug": "debug", "local": "debug", "argo": "default", "default": "default"}
        if mode not in modes:
            raise UsageError(f"%dflow_mode debug|argo  (got {mode!r})")
        config["mode"] = modes[mode]
        return f"mode: {config['mode']}"

    @line_magic
    def dflow_config(self, line: str) -> None:
        """``%dflow_config key=value ...``; ``s3.key=value`` sets s3_config."""
        from ..config import check_setting, config, s3_config

        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%dflow_config key=value ...: {exc}") from None
        if not words:
            raise UsageError("%dflow_config key=value ...   e.g. %dflow_config python_mode=process")
        settings: list[tuple[dict[str, Any], str, Any]] = []
        for w in words:  # all checked first: a bad one sets nothing
            key, sep, raw = w.partition("=")
            if not sep or not key:
                raise UsageError(f"%dflow_config key=value ...   (got {w!r})")
            try:
                value: Any = json.loads(raw)
            except ValueError:
                value = raw
            s3 = key.startswith("s3.")
            name = key[3:] if s3 else key
            try:
                check_setting(name, value, s3=s3)
            except ValueError as exc:
                raise UsageError(f"%dflow_config {w}: {exc}") from None
            settings.append((s3_config if s3 else config, name, value))
        for table, name, value in settings:
            table[name] = value

    @line_magic
    def dflow_get(self, line: str) -> Any:
        """Bind a step's output in the namespace: typed parameter, or downloaded artifact.

        A looped step gives the list of its items' outputs in item order (``STEP[3].OUTPUT``
        one item); a missing step, a failed, skipped or unfinished one and a missing output are
        each refused with what happened and what to do.
        """
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"cannot split the line: {exc}\n{GET_USAGE}") from None
        if len(words) not in (2, 4) or (len(words) == 4 and words[2] != "as"):
            raise UsageError(GET_USAGE)
        wf_name, ref = words[0], words[1]
        step_ref, dot, output = ref.rpartition(".")
        m = _REF.match(step_ref)
        if not dot or not m or not _NAME.match(output):
            raise UsageError(f"bad STEP.OUTPUT {ref!r}\n{GET_USAGE}")
        step_name, item_text = m.group("step"), m.group("item")
        target = check_target(words[3] if len(words) == 4 else output, GET_USAGE, self.shell)
        ns = self.shell.user_ns  # type: ignore[union-attr]
        wf = ns.get(wf_name)
        if wf is None or not hasattr(wf, "query_step"):
            raise UsageError(
                f"{wf_name!r} is not a submitted Workflow in this notebook\n{GET_USAGE}"
            )
        try:
            found = wf.query_step(name=step_name)
        except RuntimeError as exc:  # not submitted
            raise UsageError(str(exc)) from None
        nodes = _step_nodes(found, step_name)
        where = f"step {step_name!r} of {wf_name}"
        if nodes is None:
            names = _manifest_steps(wf)
            if step_name in names:
                phase = wf.query_status()
                if phase in ("Succeeded", "Failed", "Error"):
                    raise UsageError(f"{where} never ran: the workflow ended {phase} before it")
                raise UsageError(
                    f"{where} has not started yet (workflow {phase}); wait for it: {wf_name}.wait()"
                )
            raise UsageError(
                f"{wf_name} has no step {step_name!r} (its steps: {', '.join(names) or 'none'})"
            )
        group, items = nodes
        looped = bool(items) or (group is not None and group.type == "TaskGroup")
        everything = ([group] if group is not None else []) + items
        busy = [s for s in everything if s.phase in ("Pending", "Running")]
        if busy:
            done = sum(1 for s in items if s.phase == "Succeeded")
            count = f" ({done} of {len(items)} items done)" if looped else ""
            raise UsageError(
                f"{where} is still {busy[0].phase}{count}; wait for it: {wf_name}.wait()"
            )
        if item_text is not None:
            if not looped:
                raise UsageError(f"{where} is not a looped step: write {step_name}.{output}")
            index = int(item_text)
            by_index = {_loop_index(s, step_name): s for s in items}
            if index not in by_index:
                raise UsageError(f"{where} has {len(items)} items: item {index} does not exist")
            items = [by_index[index]]
        units = items if looped else [group]
        for s in units:
            label = _item_label(s, step_name)
            if s.phase in ("Failed", "Error"):
                msg = str(getattr(s, "message", "") or s.get("message") or "no message")
                raise UsageError(f"{where}{label} {s.phase.lower()}: {msg}")
            if s.phase in ("Skipped", "Omitted"):
                raise UsageError(f"{where}{label} was {s.phase.lower()}: it has no outputs")
            if output not in s.outputs.parameters and output not in s.outputs.artifacts:
                have = [*s.outputs.parameters, *s.outputs.artifacts]
                have = [h for h in have if not h.startswith("dflow_")]
                raise UsageError(
                    f"{where}{label} has no output {output!r} "
                    f"(its outputs: {', '.join(have) or 'none'})"
                )
        values = [
            self._value(s, output, target, i if looped else None) for i, s in enumerate(units)
        ]
        ns[target] = values[0] if not looped or item_text is not None else values
        return None

    def _value(self, step: Any, output: str, target: str, index: int | None) -> Any:
        if output in step.outputs.parameters:
            return step.outputs.parameters[output].value
        from ..artifacts import download_artifact

        dest = (Path(target) if index is None else Path(target) / str(index)).resolve()
        got = download_artifact(step.outputs.artifacts[output], path=dest)
        return _shaped(got, _artifact_kind(step, output), dest)

    @line_magic
    def dflow_debug(self, line: str) -> Any:
        """Re-run one step of a finished run here with its inputs (``wf.debug``)."""
        words = shlex.split(line)
        no_pm = "--no-pm" in words
        words = [w for w in words if w != "--no-pm"]
        if len(words) != 2:
            raise UsageError(DEBUG_USAGE)
        wf = self.shell.user_ns.get(words[0])  # type: ignore[union-attr]
        if wf is None or not hasattr(wf, "debug"):
            raise UsageError(f"{words[0]!r} is not a Workflow in this notebook\n{DEBUG_USAGE}")
        try:
            return wf.debug(words[1], post_mortem=not no_pm)
        except (KeyError, ValueError) as exc:
            raise UsageError(f"{str(exc).strip(chr(34) + chr(39))}\n{DEBUG_USAGE}") from None


def _shaped(got: Any, kind: str, dest: Path) -> Any:
    """What ``download_artifact`` returned (dflow's path object) as the OP declared it."""

    def as_path(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: as_path(x) for k, x in v.items()}
        if isinstance(v, list):
            return [as_path(x) for x in v]
        return None if v is None else Path(v)

    if kind == "path":
        return as_path(got[0]) if isinstance(got, list) and len(got) == 1 else dest
    return as_path(got)


def _display(step: Any) -> str:
    return str(step.get("displayName") or step.get("name") or "")


def _step_nodes(found: list[Any], step_name: str) -> tuple[Any, list[Any]] | None:
    """``(the step's own node or None, its loop items in item order)``, None when neither ran.

    Retry attempts are left out (the Retry node carries the outcome); ``name(3:x)`` is item 3.
    """
    attempts = {c for s in found if s.type == "Retry" for c in (s.get("children") or [])}
    group = None
    items: dict[int, Any] = {}
    for s in found:
        if s.id in attempts:
            continue
        display = _display(s)
        if display == step_name and s.type in (
            "Pod",
            "Steps",
            "DAG",
            "Retry",
            "TaskGroup",
            "Skipped",
        ):
            group = s
        elif display.startswith(step_name + "("):
            m = _LOOP_ITEM.match(display[len(step_name) :])
            if m and s.type in ("Pod", "Steps", "DAG", "Retry", "Skipped"):
                items[int(m.group(1))] = s
    if group is None and not items:
        return None
    return group, [items[i] for i in sorted(items)]


def _loop_index(step: Any, step_name: str) -> int:
    m = _LOOP_ITEM.match(_display(step)[len(step_name) :])
    return int(m.group(1)) if m else -1


def _item_label(step: Any, step_name: str) -> str:
    rest = _display(step)[len(step_name) :]
    m = _LOOP_ITEM.match(rest)
    return f" item {m.group(1)} {rest}" if m else ""


def _manifest_steps(wf: Any) -> list[str]:
    """Names of every step and task the workflow's templates declare."""
    try:
        manifest = wf._handle().manifest or {}
    except Exception:
        manifest = {}
    names: list[str] = []
    for t in (manifest.get("spec") or {}).get("templates") or []:
        for group in t.get("steps") or []:
            names += [str(s.get("name")) for s in group or [] if isinstance(s, dict)]
        names += [str(x.get("name")) for x in (t.get("dag") or {}).get("tasks") or []]
    return list(dict.fromkeys(names))


def _check_syntax(cell: str) -> None:
    """Raise the cell's SyntaxError as one: its line (counted in the cell) and a caret."""
    try:
        ast.parse(textwrap.dedent(cell), filename="<dflow_op cell>")
    except SyntaxError as exc:
        raise SyntaxError(
            exc.msg,
            ("<dflow_op cell>", exc.lineno, exc.offset, exc.text, exc.end_lineno, exc.end_offset),
        ) from None


def _artifact_kind(step: Any, output: str) -> str:
    """``path``, ``list``, ``dict`` or ``nested``: how the step's OP declared the artifact."""
    text = ""
    template = getattr(step, "template", None) or {}
    for a in (template.get("outputs") or {}).get("artifacts") or []:
        if a.get("name") == output:
            text = str(a)
    script = ((template.get("script") or {}).get("source") or "") if template else ""
    m = re.search(r'"name": "%s",\n"type": "([^"]+)"' % re.escape(output), script)
    if m:
        text = m.group(1)
    if "List[" in text or "list[" in text:
        return "list"
    if "NestedDict" in text:
        return "nested"
    if "Dict[" in text or "dict[" in text:
        return "dict"
    return "path"


def _function_names(cell: str) -> list[str]:
    try:
        tree = ast.parse(textwrap.dedent(cell))
    except SyntaxError:
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _simple_type(text: str) -> Any:
    from ..runtime.typestr import str_to_type

    try:
        return str_to_type(text)
    except ValueError:
        return None


def _set_template_defaults(op: Any, spec: OpLine) -> None:
    """Options of the magic line become PythonOPTemplate defaults for this OP."""
    defaults: dict[str, Any] = {}
    if spec.image:
        defaults["image"] = spec.image
    if spec.python_packages:
        defaults["python_packages"] = spec.python_packages
    if spec.timeout is not None:
        defaults["timeout"] = spec.timeout
    if spec.retries is not None:
        defaults["retry_on_transient_error"] = spec.retries
    op.dflow_nb_template_defaults = defaults
