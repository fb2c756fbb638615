"""A stand-in Argo Server (and Kubernetes API) for tests: not Argo, only its HTTP surface.

Kubernetes and Argo cannot run on the project's machines, so the backend is tested against this
``http.server`` on a free port of 127.0.0.1, in a thread. It answers the endpoints the backend
uses, the way Argo Server and the Kubernetes API answer them (JSON bodies, grpc-gateway error
objects ``{"code", "message"}``, newline-delimited JSON log streams), and:

- validates every submitted manifest against Argo's Workflow CRD (``argo_crd.validate_manifest``)
  and refuses an invalid one with 400, as ``argo submit`` does with strict validation;
- serves the real Workflow objects of ``shared/argo/status-fixtures/`` under their file stem
  (``steps-parallel-succeeded``...) in namespace ``argo``; submitted workflows get a status
  only when a test sets one (``set_status``), since nothing here runs pods;
- checks ``Authorization: Bearer <token>`` (401), refuses namespaces in ``forbidden`` (403)
  and unknown namespaces (404 ``namespaces "x" not found``) like the real servers.

What it does not do: run anything, hydrate offloaded nodes from a database, apply
retry/resubmit logic (it only records the call and flips the phase), or check RBAC rules.
"""

from __future__ import annotations

import copy
import datetime
import json
import random
import string
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from argo_crd import CRD_PATH, validate_manifest

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "argo" / "status-fixtures"


def load_fixtures() -> dict[str, dict[str, Any]]:
    """Every status fixture by file stem; empty when the shared folder is absent."""
    if not FIXTURES.is_dir():
        return {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return {
        p.stem: yaml.load(p.read_text(), Loader=loader)  # noqa: S506 - a safe loader
        for p in sorted(FIXTURES.glob("*.yaml"))
    }


class StandInArgo:
    """State of the stand-in: workflows by namespace, config maps, logs and the request log."""

    def __init__(self, token: str | None = "s3cret-token", validate: bool = True) -> None:
        self.token = token
        self.validate = validate
        self.namespaces = {"argo", "default"}
        self.forbidden: set[str] = set()
        self.workflows: dict[str, dict[str, dict[str, Any]]] = {"argo": {}, "default": {}}
        self.config_maps: dict[str, dict[str, Any]] = {}
        self.logs: dict[tuple[str, str], list[str]] = {}
        self.requests: list[dict[str, Any]] = []
        self.rejected: list[list[str]] = []
        self.submitted: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- test controls ---------------------------------------------------------------------
    def add_fixtures(self, fixtures: dict[str, dict[str, Any]]) -> None:
        for stem, obj in fixtures.items():
            wf = copy.deepcopy(obj)
            wf.setdefault("metadata", {})["namespace"] = "argo"
            self.workflows["argo"][stem] = wf

    def set_status(self, name: str, status: dict[str, Any], namespace: str = "argo") -> None:
        with self._lock:
            self.workflows[namespace][name]["status"] = copy.deepcopy(status)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- serving ---------------------------------------------------------------------------
    def start(self) -> StandInArgo:
        handler = type("Handler", (_Handler,), {"state": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def running(**kwargs: Any) -> Iterator[StandInArgo]:
    """A started stand-in, shut down afterwards."""
    server = StandInArgo(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()


class _Error(Exception):
    def __init__(self, status: int, message: str, code: int) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _json_default(value: Any) -> str:
    """YAML reads unquoted timestamps as datetimes; Argo sends RFC 3339 text."""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    raise TypeError(f"not JSON: {type(value).__name__}")


def _suffix() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=5))


class _Handler(BaseHTTPRequestHandler):
    state: StandInArgo
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # --- plumbing --------------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        st = self.state
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        st.requests.append(
            {
                "method": method,
                "path": url.path,
                "query": query,
                "body": body,
                "raw": raw,
                "headers": dict(self.headers.items()),
            }
        )
        try:
            if st.token is not None:
                if self.headers.get("Authorization") != f"Bearer {st.token}":
                    raise _Error(401, "token not valid for running mode", 16)
            parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
            result = self._route(method, parts, query, body)
        except _Error as exc:
            self._send(exc.status, {"code": exc.code, "message": exc.message})
            return
        if isinstance(result, list):  # a stream of JSON lines
            data = b"".join(json.dumps(x, default=_json_default).encode() + b"\n" for x in result)
            self._send_bytes(200, data, "application/json")
        elif isinstance(result, str):
            self._send_bytes(200, result.encode(), "text/plain")
        else:
            self._send(200, result)

    def _send(self, status: int, obj: Any) -> None:
        data = json.dumps(obj, default=_json_default).encode()
        self._send_bytes(status, data, "application/json")

    def _send_bytes(self, status: int, data: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _namespace(self, ns: str) -> dict[str, dict[str, Any]]:
        st = self.state
        if ns in st.forbidden:
            raise _Error(
                403,
                f'workflows.argoproj.io is forbidden: User "system:serviceaccount:argo:dflow" '
                f'cannot access resource "workflows" in the namespace "{ns}"',
                7,
            )
        if ns not in st.namespaces:
            raise _Error(404, f'namespaces "{ns}" not found', 5)
        return st.workflows.setdefault(ns, {})

    def _workflow(self, ns: str, name: str) -> dict[str, Any]:
        wfs = self._namespace(ns)
        if name not in wfs:
            raise _Error(404, f'workflows.argoproj.io "{name}" not found', 5)
        return wfs[name]

    def _create(self, ns: str, manifest: dict[str, Any]) -> dict[str, Any]:
        st = self.state
        wfs = self._namespace(ns)
        if st.validate:
            if CRD_PATH.exists():
                errors = validate_manifest(manifest)
            else:  # no shared data: only what Argo's API rejects before any schema
                errors = (
                    []
                    if (manifest.get("spec") or {}).get("templates")
                    else ["spec.templates: required"]
                )
            if errors:
                st.rejected.append(errors)
                raise _Error(400, "Failed to submit workflow: " + "; ".join(errors[:5]), 3)
        st.submitted.append(copy.deepcopy(manifest))
        wf = copy.deepcopy(manifest)
        meta = wf.setdefault("metadata", {})
        if not meta.get("name"):
            meta["name"] = f"{meta.pop('generateName', 'workflow-')}{_suffix()}"
        meta["namespace"] = ns
        meta["uid"] = f"uid-{_suffix()}"
        meta["creationTimestamp"] = "2026-01-01T00:00:00Z"
        if meta["name"] in wfs:
            raise _Error(409, f'workflows.argoproj.io "{meta["name"]}" already exists', 6)
        wf["status"] = {}
        wfs[meta["name"]] = wf
        return wf

    def _route(self, method: str, p: list[str], query: dict[str, str], body: Any) -> Any:
        st = self.state
        # Argo Server: /api/v1/workflows/{ns}[/{name}[/{verb}]]
        if p[:3] == ["api", "v1", "workflows"] and len(p) >= 4:
            ns = p[3]
            if len(p) == 4 and method == "POST":
                return self._create(ns, body["workflow"])
            if len(p) == 4 and method == "GET":
                return {"items": list(self._namespace(ns).values())}
            wf = self._workflow(ns, p[4])
            if len(p) == 5 and method == "GET":
                return wf
            if len(p) == 5 and method == "DELETE":
                del st.workflows[ns][p[4]]
                return {}
            if len(p) == 6 and method == "PUT":
                return self._act(wf, p[5])
            if len(p) == 6 and p[5] == "log" and method == "GET":
                pod = query.get("podName")
                return [
                    {"result": {"content": line, "podName": pod_}}
                    for (name, pod_), lines in st.logs.items()
                    if name == p[4] and (pod is None or pod == pod_)
                    for line in lines
                ]
        # Kubernetes: /apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows[/{name}]
        if p[:4] == ["apis", "argoproj.io", "v1alpha1", "namespaces"] and len(p) >= 6:
            ns = p[4]
            if len(p) == 6 and method == "POST":
                return self._create(ns, body)
            wf = self._workflow(ns, p[6])
            if method == "GET":
                return wf
            if method == "PATCH":
                spec = wf.setdefault("spec", {})
                for k, v in (body.get("spec") or {}).items():
                    if v is None:
                        spec.pop(k, None)
                    else:
                        spec[k] = v
                if spec.get("shutdown"):
                    wf.setdefault("status", {})["phase"] = "Failed"
                return wf
            if method == "DELETE":
                del st.workflows[ns][p[6]]
                return {}
        # Kubernetes core: config maps and pod logs
        if p[:4] == ["api", "v1", "namespaces", p[3] if len(p) > 3 else ""] and len(p) >= 5:
            ns = p[3]
            self._namespace(ns)
            if p[4] == "configmaps" and method == "POST":
                name = body["metadata"]["name"]
                if name in st.config_maps:
                    raise _Error(409, f'configmaps "{name}" already exists', 6)
                st.config_maps[name] = body
                return body
            if p[4] == "pods" and len(p) == 7 and p[6] == "log":
                lines = [ls for (_, pod), ls in st.logs.items() if pod == p[5]]
                if not lines:
                    raise _Error(404, f'pods "{p[5]}" not found', 5)
                return "".join(line + "\n" for line in lines[0])
        raise _Error(404, f"no route for {method} /{'/'.join(p)}", 5)

    def _act(self, wf: dict[str, Any], verb: str) -> dict[str, Any]:
        status = wf.setdefault("status", {})
        spec = wf.setdefault("spec", {})
        if verb in ("terminate", "stop"):
            spec["shutdown"] = verb.capitalize()
            status["phase"] = "Failed"
            status["message"] = f"Stopped with strategy '{verb.capitalize()}'"
        elif verb == "suspend":
            spec["suspend"] = True
        elif verb == "resume":
            spec.pop("suspend", None)
        elif verb == "retry":
            status["phase"] = "Running"
            status.pop("message", None)
        elif verb == "resubmit":
            ns = wf["metadata"]["namespace"]
            new = {k: copy.deepcopy(v) for k, v in wf.items() if k != "status"}
            new["metadata"] = {"generateName": wf["metadata"]["name"] + "-"}
            return self._create(ns, new)
        else:
            raise _Error(404, f"no action {verb!r}", 5)
        return wf
