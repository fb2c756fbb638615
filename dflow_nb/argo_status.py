"""Reading an Argo Workflow's ``status``: nodes, steps as dflow shows them, and step queries.

Both engines (Argo Workflows and the in-kernel engine) report a run in Argo's exact ``status``
shape, so this one layer gives ``wf.query_step()`` its answers on both. Everything here is a pure
function of plain dicts (the Workflow object, or its ``status`` and the compiled manifest); no
network, no cluster. Only the standard library is imported at module import.

What the Argo data looks like, and every oddity handled below, is written up in
``shared/argo/status-fixtures/NOTES.md`` (35 real Workflow objects). The query semantics follow
dflow's ``ArgoWorkflow.get_step`` (``src/dflow/argo_objects.py``), see :func:`query_steps`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime
import gzip
import importlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .vocab import parse_description

__all__ = [
    "ArgoArtifact",
    "ArgoIO",
    "ArgoParameter",
    "ArgoStep",
    "NodesUnavailableError",
    "decode_nodes",
    "find_root",
    "progress",
    "query_steps",
    "workflow_phase",
]

# Artifact location keys of Argo's ArtifactLocation (workflow_types.go); exactly one is set on a
# stored artifact. ``archive`` is not a location: it says how the output was packed.
_LOCATION_KEYS = ("s3", "oss", "gcs", "azure", "hdfs", "http", "artifactory", "git", "raw")
_STR_TYPES = frozenset({"str", "builtins.str", "<class 'str'>"})  # the last one: dflow's str(str)
_EXIT_CODE_RE = re.compile(r"exit code (\d+)")
_INDEX_RE = re.compile(r"\((\d+)")


class NodesUnavailableError(RuntimeError):
    """The status holds no readable nodes: offloaded to Argo's database, or undecodable.

    Returning an empty step list instead would make a running workflow look like one with no
    steps, so callers get an error that says what happened and how to get the nodes.
    """


# --------------------------------------------------------------------------------------------
# small helpers


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _timestamp(value: Any) -> str | None:
    """RFC 3339 text for a node time; PyYAML turns unquoted timestamps into ``datetime``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _parse_time(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    try:
        t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return t


def _valid_progress(value: Any) -> str | None:
    """``"N/M"`` when it is a valid Argo progress (0 <= N <= M, M > 0), else None.

    Argo writes ``"0/0"`` as its zero value and ``""`` for undefined (``progress.go``); neither
    says anything, so both read as None.
    """
    if not isinstance(value, str):
        return None
    n, sep, m = value.partition("/")
    if not sep or not n.isdigit() or not m.isdigit():
        return None
    if int(m) == 0 or int(n) > int(m):
        return None
    return value


def _workflow_name(obj: Mapping[str, Any] | None) -> str | None:
    if not obj:
        return None
    meta = _as_dict(obj.get("metadata"))
    name = meta.get("name")
    return name if isinstance(name, str) and name else None


def _split_workflow(status: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Accept a ``status`` dict or a whole Workflow object; return (status, workflow name)."""
    if "status" in status and ("metadata" in status or "spec" in status):
        return _as_dict(status.get("status")), _workflow_name(status)
    return dict(status), None


def _workflow_label(status: Mapping[str, Any], workflow: str | None) -> str:
    """How errors name a workflow: its name, else generateName or uid (offloaded CRs)."""
    if workflow:
        return f"workflow {workflow!r}"
    meta = _as_dict(status.get("metadata")) if "status" in status else {}
    for field in ("name", "generateName", "uid"):
        if meta.get(field):
            return f"workflow with {field} {meta[field]!r}"
    return "workflow (unnamed)"


def _decode_value(text: str, type_str: str | None) -> Any:
    """Typed value of a parameter's text: str stays str, other declared types from JSON.

    Without a declared type the text is returned as it is (Argo parameters are strings and
    dflow only decodes typed ones). The rule is the runtime's own (``runtime.values.decode``),
    so a value reads back exactly as the OP wrote it.
    """
    if type_str is None:
        return text
    if type_str in _STR_TYPES:
        return text
    from .runtime.values import decode

    return decode(text, type_str)


def _encode_value(value: Any) -> str:
    """dflow's ``modify_output_parameter`` rule: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    from .runtime.values import encode

    return encode(value, None)


# --------------------------------------------------------------------------------------------
# workflow-level facts


def workflow_phase(status: Mapping[str, Any]) -> str:
    """The workflow's phase; ``"Pending"`` when Argo has not written one yet.

    A just-submitted workflow has no ``status.phase`` (Argo's Unknown, ``""``); dflow's
    ``Workflow.query_status`` reports that as ``"Pending"``, and so does this. Takes the status
    or the whole Workflow object.
    """
    st, _ = _split_workflow(status)
    phase = st.get("phase")
    return phase if isinstance(phase, str) and phase else "Pending"


def progress(status: Mapping[str, Any]) -> str | None:
    """The workflow's ``"N/M"`` progress, or None when Argo has none that means anything.

    Informational only: Argo counts exit handlers and counts some nodes twice, so it is not
    recomputed or checked against the nodes (NOTES.md §7).
    """
    st, _ = _split_workflow(status)
    return _valid_progress(st.get("progress"))


def _decompress(raw: bytes, where: str) -> bytes:
    """Argo picks gzip, zstd or brotli; the reader tells them apart by magic bytes (fileutil.go)."""
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    if raw[:4] == b"\x28\xb5\x2f\xfd":
        for module, attr in (("compression.zstd", "decompress"), ("zstandard", "decompress")):
            try:
                return bytes(getattr(importlib.import_module(module), attr)(raw))
            except ImportError:
                continue
        raise NodesUnavailableError(
            f"{where}: status.compressedNodes is zstd-compressed; install 'zstandard' "
            "(or use Python 3.14+) to read it, or fetch the workflow through argo-server"
        )
    try:
        brotli = importlib.import_module("brotli")
    except ImportError:
        raise NodesUnavailableError(
            f"{where}: status.compressedNodes is neither gzip nor zstd, so Argo wrote it with "
            "brotli; install 'brotli' to read it, or fetch the workflow through argo-server"
        ) from None
    return bytes(brotli.decompress(raw))


def decode_nodes(
    status: Mapping[str, Any],
    offloaded: Callable[[str], dict[str, Any]] | None = None,
    *,
    workflow: str | None = None,
) -> dict[str, dict[str, Any]]:
    """The node map of a status, wherever Argo put it: ``nodes``, ``compressedNodes`` or offloaded.

    The controller compresses the nodes when the Workflow object would pass 1 MiB, and moves
    them to its database when offloading is on; a client reading the CR must undo the first and
    cannot undo the second by itself. ``offloaded`` is called with ``offloadNodeStatusVersion``
    and returns the node map (for instance from argo-server's ``GetWorkflow``, which hydrates
    it); without it an offloaded status raises :class:`NodesUnavailableError` naming the
    workflow, rather than reading as a workflow with no steps.

    ``status`` may also be the whole Workflow object; ``workflow`` names it in errors when only
    the status is given. A status with no nodes at all (not started) gives ``{}``.
    """
    st, name = _split_workflow(status)
    where = _workflow_label(status, workflow or name)
    nodes = st.get("nodes")
    if isinstance(nodes, dict) and nodes:
        return nodes
    packed = st.get("compressedNodes")
    if isinstance(packed, str) and packed:
        try:
            raw = base64.b64decode(packed, validate=False)
            text = _decompress(raw, where)
            decoded = json.loads(text)
        except NodesUnavailableError:
            raise
        except (binascii.Error, OSError, EOFError, ValueError) as exc:
            raise NodesUnavailableError(
                f"{where}: status.compressedNodes could not be decoded ({exc})"
            ) from exc
        if not isinstance(decoded, dict):
            raise NodesUnavailableError(
                f"{where}: status.compressedNodes decodes to {type(decoded).__name__}, "
                "not a map of nodes"
            )
        return decoded
    version = st.get("offloadNodeStatusVersion")
    if version:
        if offloaded is None:
            raise NodesUnavailableError(
                f"{where}: its node status is offloaded to the Argo controller's database "
                f"(offloadNodeStatusVersion {version!r}); read the workflow through argo-server "
                "(GetWorkflow hydrates offloaded nodes) or pass an `offloaded` callback"
            )
        fetched = offloaded(str(version))
        if not isinstance(fetched, dict):
            raise NodesUnavailableError(
                f"{where}: the offloaded-nodes callback returned {type(fetched).__name__}, "
                "not a map of nodes"
            )
        return fetched
    return {}


def find_root(nodes: Mapping[str, Mapping[str, Any]], workflow: str | None = None) -> str | None:
    """The id of the entrypoint node.

    Not ``nodes[metadata.name]``: a renamed or resubmitted workflow keeps its old node ids
    (NOTES.md §2). The root is the node with no boundary that no node lists as a child and that
    is not an exit handler; the workflow's own name wins among several candidates, then the
    earliest start.
    """
    listed = {c for n in nodes.values() for c in _as_list(n.get("children"))}
    candidates = [
        nid
        for nid, n in nodes.items()
        if not n.get("boundaryID")
        and nid not in listed
        and n.get("type")
        and not str(n.get("displayName") or n.get("name") or "").endswith(".onExit")
    ]
    if not candidates:
        return None
    if workflow in candidates:
        return workflow
    return min(candidates, key=lambda i: (_timestamp(nodes[i].get("startedAt")) or "~", i))


# --------------------------------------------------------------------------------------------
# templates: where declared types live


class _Templates:
    """Template lookup by (scope, name), built once per query.

    A node names its template by ``templateName`` within ``templateScope`` (``local/<wf>``,
    ``namespaced/<WorkflowTemplate>``, ``cluster/<ClusterWorkflowTemplate>``), or by
    ``templateRef`` when it calls another WorkflowTemplate. Local templates are in the
    manifest's ``spec.templates`` (or ``status.storedWorkflowTemplateSpec`` for a workflow
    submitted from a ``workflowTemplateRef``); the others only in ``status.storedTemplates``.
    """

    def __init__(self, manifest: Mapping[str, Any] | None, status: Mapping[str, Any] | None):
        self.local: dict[str, dict[str, Any]] = {}
        self.stored: dict[str, dict[str, Any]] = {}
        spec = _as_dict((manifest or {}).get("spec")) or _as_dict(manifest)
        # a whole Workflow object as manifest brings its own status (storedTemplates)
        st = _as_dict(status) or _as_dict((manifest or {}).get("status"))
        stored_spec = _as_dict(st.get("storedWorkflowTemplateSpec"))
        for source in (stored_spec, spec):  # the manifest wins over the stored copy
            for t in _as_list(source.get("templates")):
                if isinstance(t, dict) and isinstance(t.get("name"), str):
                    self.local[t["name"]] = t
        for k, t in _as_dict(st.get("storedTemplates")).items():
            if isinstance(t, dict):
                self.stored[k] = t

    def find(self, node: Mapping[str, Any]) -> dict[str, Any] | None:
        ref = node.get("templateRef")
        if isinstance(ref, dict) and ref.get("name") and ref.get("template"):
            kinds = ("cluster", "namespaced") if ref.get("clusterScope") else ("namespaced",)
            for kind in kinds:
                t = self.stored.get(f"{kind}/{ref['name']}/{ref['template']}")
                if t is not None:
                    return t
            return None
        name = node.get("templateName")
        if not isinstance(name, str) or not name:
            return None
        scope = str(node.get("templateScope") or "local/")
        kind = scope.partition("/")[0]
        if kind in ("local", ""):
            return self.local.get(name) or self.stored.get(f"{scope}/{name}")
        return self.stored.get(f"{scope}/{name}")


def _declared_types(template: Mapping[str, Any] | None, io: str) -> dict[str, str]:
    """Parameter name -> declared type string, from a template's ``inputs``/``outputs``."""
    out: dict[str, str] = {}
    for p in _as_list(_as_dict(_as_dict(template).get(io)).get("parameters")):
        if isinstance(p, dict) and isinstance(p.get("name"), str):
            tp, _ = parse_description(p.get("description"))
            if tp is not None:
                out[p["name"]] = tp
    return out


# --------------------------------------------------------------------------------------------
# step objects


class _ArgoDict:
    """Dict-style access to the Argo object behind a parameter or artifact (dflow's are dicts)."""

    _data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The Argo ``Parameter``/``Artifact`` dict, with any modification (what reuse sends)."""
        return copy.deepcopy(self._data)

    def recover(self) -> dict[str, Any]:
        """dflow's name for :meth:`to_dict`."""
        return self.to_dict()

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)


class ArgoParameter(_ArgoDict):
    """One input or output parameter of a step, its ``value`` typed by the declared type.

    Argo stores every value as text; the type dflow_nb declared (``{"type": ...}`` in the
    ``description``, on the node or its template) says how to read it back, as dflow's
    ``ArgoParameter`` does with its jsonpickle descriptions.
    """

    save_as_artifact = False

    def __init__(self, data: Mapping[str, Any], type_str: str | None = None) -> None:
        self._data: dict[str, Any] = copy.deepcopy(dict(data))
        own_type, desc = parse_description(self._data.get("description"))
        self.name: str = str(self._data.get("name", ""))
        self.type_str: str | None = own_type or type_str
        self.description: str | None = desc
        self._cache: tuple[str, Any] | None = None

    @property
    def text(self) -> str | None:
        """The value as Argo stores it, or None when Argo has none (a failed attempt)."""
        v = self._data.get("value")
        return None if v is None else str(v)

    @property
    def value(self) -> Any:
        text = self.text
        if text is None:
            return None
        if self._cache is None or self._cache[0] != text:
            self._cache = (text, _decode_value(text, self.type_str))
        return self._cache[1]

    @value.setter
    def value(self, value: Any) -> None:
        self._data["value"] = _encode_value(value)
        self._cache = None

    @property
    def type(self) -> Any:
        """The declared type (``int``, ``typing.List[str]``...), or None when none was declared.

        Read with ``runtime.typestr.str_to_type`` (no eval); it may import a user module named
        in the type string, so it is resolved only when asked for.
        """
        if self.type_str is None:
            return None
        from .runtime.typestr import str_to_type

        try:
            return str_to_type(self.type_str)
        except ValueError:
            return None

    @property
    def globalName(self) -> str | None:
        g = self._data.get("globalName")
        return g if isinstance(g, str) else None

    def __repr__(self) -> str:
        return f"ArgoParameter(name={self.name!r}, value={self.text!r})"


class ArgoArtifact(_ArgoDict):
    """One input or output artifact of a step: where Argo stored it, usable as a step input."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data: dict[str, Any] = copy.deepcopy(dict(data))
        self.name: str = str(self._data.get("name", ""))

    @property
    def key(self) -> str | None:
        """The object key in the artifact repository (s3, oss, gcs... whichever is set)."""
        for loc in _LOCATION_KEYS:
            block = self._data.get(loc)
            if isinstance(block, dict) and isinstance(block.get("key"), str):
                return str(block["key"])
        return None

    @property
    def path(self) -> str | None:
        p = self._data.get("path")
        return p if isinstance(p, str) else None

    @property
    def modified(self) -> dict[str, Any] | None:
        """``{"old_key": ...}`` after :meth:`ArgoStep.modify_output_artifact`, as in dflow."""
        m = self._data.get("modified")
        return m if isinstance(m, dict) else None

    @property
    def globalName(self) -> str | None:
        g = self._data.get("globalName")
        return g if isinstance(g, str) else None

    def to_argo_source(self) -> dict[str, Any]:
        """The Argo artifact location (``{"s3": {"key": ...}}``), for a step's input artifact.

        dflow_nb's compiler takes any object with this method as an artifact argument, so a
        queried step's output can be fed to a new workflow as it is.
        """
        return {k: copy.deepcopy(v) for k, v in self._data.items() if k in _LOCATION_KEYS}

    def __repr__(self) -> str:
        return f"ArgoArtifact(name={self.name!r}, key={self.key!r})"


class ArgoIO:
    """A step's ``inputs`` or ``outputs``: ``parameters`` and ``artifacts`` keyed by name.

    Outputs also carry ``exitCode`` (text, as Argo stores it) and ``result`` (stdout).
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None,
        types: Mapping[str, str] | None = None,
        *,
        node_type: str = "",
        message: str = "",
    ) -> None:
        d = _as_dict(data)
        types = types or {}
        self._extra: dict[str, Any] = {
            k: copy.deepcopy(v)
            for k, v in d.items()
            if k not in ("parameters", "artifacts", "exitCode", "result")
        }
        self.parameters: dict[str, ArgoParameter] = {}
        for p in _as_list(d.get("parameters")):
            if isinstance(p, dict) and "name" in p:
                self.parameters[str(p["name"])] = ArgoParameter(p, types.get(str(p["name"])))
        self.artifacts: dict[str, ArgoArtifact] = {}
        for a in _as_list(d.get("artifacts")):
            if isinstance(a, dict) and "name" in a:
                self.artifacts[str(a["name"])] = ArgoArtifact(a)
        code = d.get("exitCode")
        self._has_exit_code = code is not None
        if code is None and node_type in ("Pod", "Container") and message:
            # 2019-2020 controllers left failed pods without outputs.exitCode (NOTES.md §5)
            m = _EXIT_CODE_RE.search(message)
            code = m.group(1) if m else None
        self.exitCode: str | None = None if code is None else str(code)
        result = d.get("result")
        self._has_result = result is not None
        if result is None and node_type == "HTTP" and "result" in self.parameters:
            # before Argo v3.3 the HTTP agent wrote the body to a parameter named "result"
            result = self.parameters["result"].text
        self.result: str | None = None if result is None else str(result)

    def to_dict(self) -> dict[str, Any]:
        """The Argo ``Inputs``/``Outputs`` dict as it now stands (values as text)."""
        d: dict[str, Any] = {}
        if self.parameters:
            d["parameters"] = [p.to_dict() for p in self.parameters.values()]
        if self.artifacts:
            d["artifacts"] = [a.to_dict() for a in self.artifacts.values()]
        if self.result is not None and self._has_result:
            d["result"] = self.result
        if self.exitCode is not None and self._has_exit_code:
            d["exitCode"] = self.exitCode
        d.update(copy.deepcopy(self._extra))
        return d

    recover = to_dict

    def __repr__(self) -> str:
        return (
            f"ArgoIO(parameters={sorted(self.parameters)!r}, artifacts={sorted(self.artifacts)!r})"
        )


_STEP_FIELDS = (
    "id",
    "name",
    "displayName",
    "type",
    "phase",
    "key",
    "templateName",
    "templateRef",
    "templateScope",
    "startedAt",
    "finishedAt",
    "progress",
    "message",
    "children",
    "boundaryID",
    "inputs",
    "outputs",
    "workflow",
)


class ArgoStep:
    """One node of a workflow run, as dflow's ``ArgoStep``: attributes and dict-style access.

    Built from a node dict plus the workflow manifest, which is where the declared parameter
    types are (through the node's ``templateName``/``templateScope`` or ``templateRef``), so
    ``step.outputs.parameters["n"].value`` is the ``int`` the OP returned, not ``"2"``.

    ``step["phase"]`` works like ``step.phase`` (dflow's ArgoStep is a dict); Argo fields with
    no attribute (``outboundNodes``, ``nodeFlag``, ``hostNodeName``...) are reachable that way.
    Reuse changes a step through :meth:`modify_output_parameter` and
    :meth:`modify_output_artifact`; :meth:`to_dict` gives the node back in Argo's shape.
    """

    def __init__(
        self,
        node: Mapping[str, Any],
        manifest: Mapping[str, Any] | None = None,
        *,
        id: str | None = None,
        status: Mapping[str, Any] | None = None,
        workflow: str | None = None,
        template: Mapping[str, Any] | None = None,
    ) -> None:
        self._node: dict[str, Any] = copy.deepcopy(dict(node))
        n = self._node
        if template is None and (manifest is not None or status is not None):
            template = _Templates(manifest, status).find(n)
        # an empty template means "looked up, none found" (query_steps resolves them in bulk)
        self.template: dict[str, Any] | None = dict(template) if template else None
        # the map key is the id: partial nodes carry id "" (NOTES.md §2)
        self.id: str = id or str(n.get("id") or "")
        self.name: str = str(n.get("name") or "")
        self.displayName: str = str(n.get("displayName") or self.name)
        self.type: str = str(n.get("type") or "")
        self.phase: str = str(n.get("phase") or "")
        self.templateName: str | None = n.get("templateName") or None
        ref = n.get("templateRef")
        self.templateRef: dict[str, Any] | None = ref if isinstance(ref, dict) else None
        self.templateScope: str | None = n.get("templateScope") or None
        self.startedAt: str | None = _timestamp(n.get("startedAt"))
        self.finishedAt: str | None = _timestamp(n.get("finishedAt"))
        self.progress: str | None = _valid_progress(n.get("progress"))
        self.message: str | None = n.get("message") or None
        self.children: list[str] = [str(c) for c in _as_list(n.get("children"))]
        self.boundaryID: str | None = n.get("boundaryID") or None
        self.workflow: str | None = workflow or _workflow_name(manifest)
        self.inputs = ArgoIO(n.get("inputs"), _declared_types(self.template, "inputs"))
        self.outputs = ArgoIO(
            n.get("outputs"),
            _declared_types(self.template, "outputs"),
            node_type=self.type,
            message=self.message or "",
        )
        key_par = self.inputs.parameters.get("dflow_key")
        key_text = key_par.text if key_par is not None else None
        # dflow: a step has a key when its dflow_key input is set and not "" (the default)
        self.key: str | None = key_text or None

    # -- dflow's reuse hooks --------------------------------------------------------------

    def modify_output_parameter(self, name: str, value: Any) -> None:
        """Replace an output parameter's value before reusing the step (README 3.1.13).

        As in dflow, a ``str`` is stored as it is and anything else as JSON, so the value reads
        back through the declared type (``modify_output_parameter("n", 3)`` then ``.value == 3``).
        """
        par = self.outputs.parameters.get(name)
        if par is None:
            raise KeyError(
                f"step {self.displayName!r} has no output parameter {name!r} "
                f"(it has: {', '.join(sorted(self.outputs.parameters)) or 'none'})"
            )
        par.value = value

    def modify_output_artifact(self, name: str, artifact: Any) -> None:
        """Point an output artifact at another stored artifact before reusing the step.

        ``artifact`` is anything with ``to_argo_source()`` (``S3Artifact``, another step's
        artifact), an Argo location dict, or an object with ``key``. As in dflow, the old key is
        kept in ``modified["old_key"]`` and ``archive`` follows the new key: a ``.tgz`` key is an
        archive, any other key is stored unpacked (``archive: {none: {}}``).
        """
        art = self.outputs.artifacts.get(name)
        if art is None:
            raise KeyError(
                f"step {self.displayName!r} has no output artifact {name!r} "
                f"(it has: {', '.join(sorted(self.outputs.artifacts)) or 'none'})"
            )
        location = _artifact_location(artifact)
        old_key = art.key
        data = art._data
        for loc in _LOCATION_KEYS:
            data.pop(loc, None)
        data.update(copy.deepcopy(location))
        new_key = art.key or ""
        if new_key.endswith(".tgz"):
            data.pop("archive", None)
        elif "archive" not in data:
            data["archive"] = {"none": {}}
        data["modified"] = {"old_key": old_key}

    # -- derived facts --------------------------------------------------------------------

    @property
    def duration(self) -> datetime.timedelta:
        """Run time so far: zero before start, up to now while running, never negative.

        Clock skew between nodes can put ``finishedAt`` before ``startedAt`` (NOTES.md §7);
        that reads as zero rather than a negative time.
        """
        start = _parse_time(self.startedAt)
        if start is None:
            return datetime.timedelta()
        end = _parse_time(self.finishedAt) or datetime.datetime.now(datetime.timezone.utc)
        return max(end - start, datetime.timedelta())

    def get_duration(self) -> datetime.timedelta:
        """dflow's spelling of :attr:`duration`."""
        return self.duration

    def to_dict(self) -> dict[str, Any]:
        """The node in Argo's shape, with any modification of inputs and outputs applied."""
        d = copy.deepcopy(self._node)
        if self.inputs.parameters or self.inputs.artifacts or "inputs" in d:
            d["inputs"] = self.inputs.to_dict()
        if "outputs" in d or self.outputs.parameters or self.outputs.artifacts:
            d["outputs"] = self.outputs.to_dict()
        return d

    recover = to_dict  # dflow's name

    # -- dict-style access (dflow's ArgoStep is a UserDict) --------------------------------

    def __getitem__(self, key: str) -> Any:
        if key in _STEP_FIELDS:
            return getattr(self, key)
        return self._node[key]

    def __contains__(self, key: object) -> bool:
        if key in _STEP_FIELDS:
            return getattr(self, str(key)) is not None
        return key in self._node

    def get(self, key: str, default: Any = None) -> Any:
        try:
            value = self[key]
        except KeyError:
            return default
        return default if value is None else value

    def keys(self) -> list[str]:
        return [k for k in dict.fromkeys((*_STEP_FIELDS, *self._node)) if k in self]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __repr__(self) -> str:
        return (
            f"ArgoStep(id={self.id!r}, displayName={self.displayName!r}, type={self.type!r}, "
            f"phase={self.phase!r}, key={self.key!r})"
        )


def _artifact_location(artifact: Any) -> dict[str, Any]:
    if isinstance(artifact, Mapping):
        loc = {k: v for k, v in artifact.items() if k in _LOCATION_KEYS}
        if loc:
            return loc
        if isinstance(artifact.get("key"), str):
            return {"s3": {"key": artifact["key"]}}
    # a record outlives the working directory: a local upload is kept by its absolute path
    to_source = getattr(artifact, "local_source", None) or getattr(artifact, "to_argo_source", None)
    if callable(to_source):
        loc = {k: v for k, v in dict(to_source()).items() if k in _LOCATION_KEYS}
        if loc:
            return loc
    key = getattr(artifact, "key", None)
    if isinstance(key, str):
        return {"s3": {"key": key}}
    raise TypeError(
        "modify_output_artifact expects a stored artifact (S3Artifact, another step's artifact "
        f"or an Argo location dict such as {{'s3': {{'key': ...}}}}), got {type(artifact).__name__}"
    )


# --------------------------------------------------------------------------------------------
# queries


def _listify(value: str | list[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _name_matches(display_name: str, names: list[str]) -> bool:
    """dflow's ``match`` (exact name, or the name followed by ``(``), plus a full regex match.

    dflow >= 1.2 matches a step by its exact name or as ``name(`` so that loop items
    (``sleep(9:nine)``) and retry attempts (``step2(1)``) of a step come with it; the README
    still promises regex, which dflow had before (``re.match``). A full match keeps ``hello``
    from also finding ``hello2`` (dflow's reason for dropping the prefix regex) while
    ``hello[0-9]`` and ``echo\\(.*\\)`` work.
    """
    for name in names:
        if display_name == name or display_name.startswith(name + "("):
            return True
        try:
            if re.fullmatch(name, display_name):
                return True
        except re.error:
            continue
    return False


def _loop_indexes(node: Mapping[str, Any]) -> tuple[str, tuple[int, ...]]:
    """(step name, loop index and retry attempt numbers): ``sleep(9:nine)`` -> ("sleep", (9,))."""
    display = str(node.get("displayName") or node.get("name") or "")
    base = display.split("(", 1)[0]
    return base, tuple(int(i) for i in _INDEX_RE.findall(display[len(base) :]))


def _start_order(ids: list[str], nodes: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Ids by ``startedAt``, as dflow sorts; within one start second, loop items by index.

    dflow's sort is stable over the node map, so same-second nodes keep the map's order (Argo
    writes it sorted by id, which puts ``sleep(10:ten)`` before ``sleep(9:nine)``). Like
    ``argo get``, items and attempts of one step are put in index order instead, in the place
    of the step's first member; everything else keeps dflow's order.
    """
    position = {nid: i for i, nid in enumerate(ids)}
    start = {nid: _timestamp(nodes[nid].get("startedAt")) or "" for nid in ids}
    loop = {nid: _loop_indexes(nodes[nid]) for nid in ids}
    first: dict[tuple[str, str], int] = {}
    for nid in sorted(ids, key=lambda i: (start[i], position[i])):
        first.setdefault((start[nid], loop[nid][0]), position[nid])
    return sorted(
        ids,
        key=lambda i: (start[i], first[(start[i], loop[i][0])], loop[i][1], position[i]),
    )


def _sub_nodes(nodes: Mapping[str, Mapping[str, Any]], parent: str) -> list[str]:
    """dflow's ``get_sub_nodes``: the steps under a Steps/DAG node, generation by generation.

    Walks ``children`` breadth first and stops at the parent's ``outboundNodes`` (the edges out
    of them lead past the parent). A node that is not a Steps/DAG, or a memoized one, stands for
    itself. Unlike dflow, each node comes once and each generation is in start order (dflow
    uses a set, so its order within a generation is arbitrary); dangling child ids are skipped.
    """
    node = nodes[parent]
    if node.get("type") not in ("Steps", "DAG"):
        return [parent]
    if _as_dict(node.get("memoizationStatus")).get("hit"):
        return [parent]
    outbound = set(_as_list(node.get("outboundNodes")))
    seen: set[str] = {parent}
    out: list[str] = []
    generation = [c for c in _as_list(node.get("children")) if c in nodes]
    while generation:
        generation = [i for i in dict.fromkeys(generation) if i not in seen]
        generation = _start_order(generation, nodes)
        seen.update(generation)
        out.extend(generation)
        nxt: list[str] = []
        for i in generation:
            if i not in outbound:
                nxt.extend(c for c in _as_list(nodes[i].get("children")) if c in nodes)
        generation = nxt
    return out


def _template_for(
    nid: str, nodes: Mapping[str, Mapping[str, Any]], templates: _Templates
) -> dict[str, Any] | None:
    node = nodes[nid]
    t = templates.find(node)
    if t is None and node.get("type") == "Retry":
        # older controllers leave templateName off Retry nodes; their attempts have it
        for c in _as_list(node.get("children")):
            if c in nodes:
                t = templates.find(nodes[c])
                if t is not None:
                    break
    return t


def _node_key(node: Mapping[str, Any]) -> str | None:
    for p in _as_list(_as_dict(node.get("inputs")).get("parameters")):
        if isinstance(p, dict) and p.get("name") == "dflow_key":
            v = p.get("value")
            return None if v is None else str(v)
    return None


def query_steps(
    status: Mapping[str, Any],
    manifest: Mapping[str, Any] | None,
    *,
    name: str | list[str] | None = None,
    key: str | list[str] | None = None,
    phase: str | list[str] | None = None,
    id: str | list[str] | None = None,
    type: str | list[str] | None = None,
    parent_id: str | None = None,
    sort_by_generation: bool = False,
    offloaded: Callable[[str], dict[str, Any]] | None = None,
) -> list[ArgoStep]:
    """The steps of a run that pass every given filter, as dflow's ``wf.query_step`` returns them.

    Semantics of dflow's ``ArgoWorkflow.get_step``:

    - every node type is a step (Pod, Steps, StepGroup, DAG, TaskGroup, Retry and its attempts,
      Skipped, Suspend...); only nodes that have not started (no ``startedAt``) are left out;
    - each filter takes one value or a list (any of them); ``name`` is matched against the
      ``displayName`` (see :func:`_name_matches`), ``key`` against the ``dflow_key`` input
      parameter, ``phase``/``type`` against the node's, ``id`` against the node id;
    - results are ordered by ``startedAt``, or with ``sort_by_generation`` by generation below
      the root (``parent_id``: below that Steps/DAG node; exit handlers are not below the root).

    ``status`` may be the status or the whole Workflow object; ``manifest`` is the compiled
    workflow (``wf.to_dict()``) or the Workflow object, used for declared parameter types.
    """
    st, wf_from_status = _split_workflow(status)
    workflow = _workflow_name(manifest) or wf_from_status
    nodes = decode_nodes(status, offloaded, workflow=workflow)
    names, keys, phases = _listify(name), _listify(key), _listify(phase)
    ids, types = _listify(id), _listify(type)

    if parent_id is not None:
        if parent_id not in nodes:
            raise KeyError(f"workflow {workflow or '(unnamed)'!r} has no node {parent_id!r}")
        order = _sub_nodes(nodes, parent_id)
    elif sort_by_generation:
        root = find_root(nodes, workflow)
        order = _sub_nodes(nodes, root) if root is not None else []
    else:
        order = _start_order(list(nodes), nodes)

    templates = _Templates(manifest, st)
    steps: list[ArgoStep] = []
    for nid in order:
        node = nodes[nid]
        if not isinstance(node, dict) or _timestamp(node.get("startedAt")) is None:
            continue
        display = str(node.get("displayName") or node.get("name") or "")
        if names is not None and not _name_matches(display, names):
            continue
        if keys is not None and _node_key(node) not in keys:
            continue
        if phases is not None and node.get("phase") not in phases:
            continue
        if types is not None and node.get("type") not in types:
            continue
        if ids is not None and nid not in ids:
            continue
        steps.append(
            ArgoStep(
                node,
                manifest,
                id=nid,
                workflow=workflow,
                template=_template_for(nid, nodes, templates) or {},
            )
        )
    return steps
