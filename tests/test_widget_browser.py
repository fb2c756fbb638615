"""The DAG widget in a real browser: JupyterLab on 127.0.0.1, Debian Chromium, Playwright.

Two notebooks are written into a temporary folder that JupyterLab serves:

- ``stub.ipynb`` drives the front end (``dflow_nb/static/widget.js``) through a stand-in
  anywidget that speaks docs/widget-protocol.md by hand: it checks drawing, delta merging,
  select/details and the lazy list of a 1,000-child fan-out, with no engine involved;
- ``live.ipynb`` runs real workflows on the in-kernel engine through ``WorkflowWidget``
  (``dflow_nb/jupyter/widget.py``): a prepare step, a 20-way fan-out of an OP that sleeps
  0.2 s and a sum; then ``%dflow_get``; then a 1,000-way fan-out whose time to first render and
  update traffic are printed (run pytest with ``-s`` to see them).

Screenshots go to the test's tmp folder and are copied to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_server import LabServer, start_lab

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# --- the stand-in widget: the protocol written by hand, no engine --------------------------
STUB = """
import datetime, pathlib, threading, time

import anywidget
import traitlets

import dflow_nb

ESM = pathlib.Path(dflow_nb.__file__).parent / "static" / "widget.js"


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def node(key, kind, x, y, label=None):
    return {"key": key, "label": label or key, "kind": kind, "x": x, "y": y, "w": 150, "h": 36,
            "template": key}


class StubWidget(anywidget.AnyWidget):
    _esm = ESM
    graph = traitlets.Dict().tag(sync=True)
    states = traitlets.Dict().tag(sync=True)
    workflow = traitlets.Dict().tag(sync=True)

    def __init__(self, n=1000):
        super().__init__()
        self.n = n
        self.sent = 0
        self.graph = {
            "width": 420, "height": 240,
            "nodes": [node("prepare", "pod", 110, 30), node("fan", "fanout", 110, 120, "square"),
                      node("cleanup", "skipped", 310, 120), node("sum", "pod", 110, 210)],
            "edges": [
                {"from": "prepare", "to": "fan", "points": [[110, 48], [110, 102]]},
                {"from": "prepare", "to": "cleanup",
                 "points": [[150, 48], [220, 70], [290, 80], [310, 102]]},
                {"from": "fan", "to": "sum", "points": [[110, 138], [110, 192]]},
            ],
        }
        self.child = {i: "Pending" for i in range(n)}
        self.states = {
            "prepare": {"phase": "Pending"},
            "fan": {"phase": "Pending", "counts": {"Pending": n}, "total": n},
            "cleanup": {"phase": "Skipped", "message": "when 'false' evaluated false"},
            "sum": {"phase": "Pending"},
        }
        self.workflow = {"id": "stub-x7k2p", "name": "stub-fan-out", "phase": "Running",
                         "progress": f"0/{n + 2}", "startedAt": now(), "finishedAt": None,
                         "message": None}
        self.on_msg(self._answer)

    def _answer(self, _widget, msg, _buffers):
        key = msg.get("key")
        if msg.get("type") == "expand" and key == "fan":
            nodes = [{"name": f"fan({i})", "phase": self.child[i], "message": None,
                      "inputs": {"parameters": {"x": i}}, "outputs": {"parameters": {"y": i * i}},
                      "log_tail": f"square {i} -> {i * i}", "duration": 0.2}
                     for i in range(self.n)]
        elif msg.get("type") == "select":
            nodes = [{"name": key, "phase": self.states.get(key, {}).get("phase"),
                      "message": None,
                      "inputs": {"parameters": {"n": self.n, "label": "x" * 300},
                                 "artifacts": {"data": "s3://bucket/in.tgz"}},
                      "outputs": {"parameters": {"n": self.n}},
                      "log_tail": "\\n".join(f"{key}: log line {i}" for i in range(40)),
                      "duration": 0.4}]
        else:
            return
        self.send({"type": "details", "key": key, "nodes": nodes})

    def delta(self, states, workflow=None):
        msg = {"type": "delta", "states": states}
        if workflow:
            msg["workflow"] = workflow
        self.sent += 1
        self.send(msg)

    def _run(self):
        t0 = now()
        self.delta({"prepare": {"phase": "Running", "startedAt": t0, "progress": "0/2"}})
        for p in ("1/2", "2/2"):
            time.sleep(0.15)
            self.delta({"prepare": {"progress": p}})
        self.delta({"prepare": {"phase": "Succeeded", "finishedAt": now()},
                    "fan": {"phase": "Running", "startedAt": now()}},
                   {"progress": f"1/{self.n + 2}"})
        done = 0
        while done < self.n:
            time.sleep(0.1)
            for i in range(done, min(self.n, done + 60)):
                self.child[i] = "Succeeded"
            done = min(self.n, done + 50)
            for i in range(done, min(self.n, done + 10)):
                self.child[i] = "Running"
            counts = {"Succeeded": done, "Running": min(10, self.n - done),
                      "Pending": max(0, self.n - done - 10)}
            self.delta({"fan": {"counts": {k: v for k, v in counts.items() if v}}},
                       {"progress": f"{1 + done}/{self.n + 2}"})
        self.delta({"fan": {"phase": "Succeeded", "finishedAt": now(),
                            "counts": {"Succeeded": self.n}},
                    "sum": {"phase": "Running", "startedAt": now()}})
        time.sleep(0.2)
        self.delta({"sum": {"phase": "Succeeded", "finishedAt": now()}},
                   {"phase": "Succeeded", "progress": f"{self.n + 2}/{self.n + 2}",
                    "finishedAt": now()})

    def run(self):
        threading.Thread(target=self._run, daemon=True).start()
"""

STUB_CELLS = [
    "from stub_widget import StubWidget\nw = StubWidget(1000)\nw",
    "w.run()",
]

LIVE_CELLS = [
    """\
%load_ext dflow_nb
import tempfile

from dflow_nb import Step, Workflow, argo_range, config
from dflow_nb.python import OP, PythonOPTemplate

config["debug_workdir"] = tempfile.mkdtemp()


@OP.function
def prepare(n: int) -> {"n": int}:
    print(f"preparing {n} items")
    return {"n": n}


@OP.function
def work(x: int) -> {"y": int}:
    import time

    time.sleep(0.2)
    print(f"work item {x}: y={x * x}")
    return {"y": x * x}


@OP.function
def total(ys: list) -> {"sum": int}:
    print(f"summing {len(ys)} values")
    return {"sum": sum(int(y) for y in ys)}


@OP.function
def square(x: int) -> {"y": int}:
    return {"y": x * x}""",
    """\
prep = Step("prepare", template=PythonOPTemplate(prepare), parameters={"n": 20})
fan = Step("fan", template=PythonOPTemplate(work), parameters={"x": "{{item}}"},
           with_param=argo_range(20))
sum_up = Step("sum", template=PythonOPTemplate(total),
              parameters={"ys": fan.outputs.parameters["y"]})
wf = Workflow(name="live-demo")
wf.add(prep)
wf.add(fan)
wf.add(sum_up)
wf.submit(wait=False)  # the cell returns; the widget follows the run
wf""",
    'print("PHASE", wf.wait(timeout=60))',
    '%dflow_get wf sum.sum as total_sum\nprint("SUM", total_sum, type(total_sum).__name__)',
    """\
big = Workflow(name="big-fan")
big.add(Step("many", template=PythonOPTemplate(square), parameters={"x": "{{item}}"},
             with_param=argo_range(1000)))
big.submit(wait=False)
big.show()""",
    'print("BIG", big.wait(timeout=60))',
]


def write_notebook(path: Path, cells: list[str]) -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"c{i}",
                "metadata": {},
                "outputs": [],
                "source": src,
            }
            for i, src in enumerate(cells)
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1))


def keep_artifact(src: Path) -> Path:
    """Copy a screenshot to tests/artifacts/ (gitignored) and return the copy's path."""
    ARTIFACTS.mkdir(exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    dest = ARTIFACTS / src.name
    shutil.copy(src, dest)
    return dest


def ensure_chromium() -> None:
    """Skip only when /usr/bin/chromium is absent and cannot be installed here."""
    if CHROMIUM.exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=300)  # noqa: S607
            subprocess.run(  # noqa: S603
                ["apt-get", "install", "-y", "-qq", "chromium"],  # noqa: S607
                env=env,
                capture_output=True,
                timeout=600,
            )
        except (OSError, subprocess.TimeoutExpired):
            pass
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent and could not be installed (apt-get chromium)")


# --- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    pytest.importorskip("jupyterlab", reason="jupyterlab is in the test extra")
    pytest.importorskip("anywidget", reason="anywidget is in the test extra")
    ensure_chromium()
    root = tmp_path_factory.mktemp("lab-root")
    (root / "stub_widget.py").write_text(STUB)
    write_notebook(root / "stub.ipynb", STUB_CELLS)
    write_notebook(root / "live.ipynb", LIVE_CELLS)
    server = start_lab(root, tmp_path_factory.mktemp("lab-home"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    ensure_chromium()
    pw = sync_api.sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


class Frames:
    """Counts the kernel websocket's comm messages (the widget's traffic) as the page sees them."""

    def __init__(self) -> None:
        self.comm = 0
        self.comm_bytes = 0

    def attach(self, page: Any) -> None:
        def on_ws(ws: Any) -> None:
            if "/channels" in ws.url:
                ws.on("framereceived", self._frame)

        page.on("websocket", on_ws)

    def _frame(self, payload: Any) -> None:
        data = payload if isinstance(payload, bytes) else str(payload).encode()
        if b'"comm_msg"' in data:
            self.comm += 1
            self.comm_bytes += len(data)


def open_notebook(browser: Any, lab: LabServer, name: str) -> tuple[Any, Frames]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    frames = Frames()
    frames.attach(page)
    page.set_default_timeout(30_000)
    page.goto(lab.lab_url(name), wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.content"
        " && window.jupyterapp.shell.currentWidget.content.widgets"
        " && window.jupyterapp.shell.currentWidget.content.widgets.length > 0",
        timeout=60_000,
    )
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel",
        timeout=60_000,
    )
    lab.wait_kernel_idle(name, timeout=60)
    # a log of every phase/progress change the widgets make, with the page's clock
    page.evaluate(
        """() => {
        window.__dfw = [];
        new MutationObserver((ms) => {
          for (const m of ms) {
            const t = m.target, d = t.dataset || {};
            if (t.classList && (t.classList.contains('dfw-node') || t.classList.contains('dfw')))
              window.__dfw.push([performance.now(), d.key || '@wf', d.phase, d.progress]);
          }
        }).observe(document.body, {subtree: true, attributes: true,
                                   attributeFilter: ['data-phase', 'data-progress']});
      }"""
    )
    return page, frames


def run_cell(page: Any, index: int) -> None:
    """Run one cell (not awaited: the page keeps going while the kernel works)."""
    page.evaluate(
        """(i) => {
        const nb = window.jupyterapp.shell.currentWidget.content;
        nb.activeCellIndex = i;
        nb.deselectAll();
        void window.jupyterapp.commands.execute('notebook:run-cell');
      }""",
        index,
    )


def cell(page: Any, index: int) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def node(scope: Any, name: str) -> Any:
    """The node drawn for step ``name`` (by key, else by label)."""
    by_key = scope.locator(f'g.dfw-node[data-key="{name}"]')
    if by_key.count():
        return by_key.first
    return scope.locator(
        "g.dfw-node", has=scope.page.locator(f'text.dfw-l:text-is("{name}")')
    ).first


def changes(page: Any, key: str) -> list[tuple[str, str]]:
    log = page.evaluate("() => window.__dfw")
    return [(e[2], e[3]) for e in log if e[1] == key]


def cell_text(page: Any, index: int) -> str:
    return str(cell(page, index).locator(".jp-OutputArea").inner_text())


# --- tests ---------------------------------------------------------------------------------
def test_front_end_against_protocol_stub(lab: LabServer, browser: Any, tmp_path: Path) -> None:
    """The front end alone: draw, merge deltas, details, a lazily listed 1,000-child fan-out."""
    page, _frames = open_notebook(browser, lab, "stub.ipynb")
    try:
        t0 = time.monotonic()
        run_cell(page, 0)
        w = cell(page, 0).locator(".dfw")
        w.locator('g.dfw-node[data-key="fan"][data-total="1000"]').wait_for(timeout=30_000)
        first = time.monotonic() - t0
        assert w.locator("g.dfw-node").count() == 4
        assert w.locator("path.dfw-edge").count() == 3
        assert w.locator('g.dfw-node[data-key="cleanup"]').get_attribute("data-phase") == "Skipped"
        assert "\u25cb1000" in w.locator('g[data-key="fan"] text.dfw-s').text_content()
        lab.wait_kernel_idle("stub.ipynb")

        run_cell(page, 1)
        page.wait_for_function(
            "() => document.querySelector('.dfw[data-phase=\"Succeeded\"]')", timeout=30_000
        )
        fan = changes(page, "fan")
        phases = [p for p, _ in fan]
        progress = {p for _, p in fan}
        assert "Running" in phases and phases[-1] == "Succeeded", fan
        assert len(progress) >= 10, progress  # the fan-out's count went up step by step
        assert [p for p, _ in changes(page, "prepare")][-1] == "Succeeded"
        assert w.get_attribute("data-progress") == "1002/1002"
        deltas = int(w.get_attribute("data-deltas") or 0)
        assert deltas >= 20, deltas  # the stub sends 25

        # a pod: select -> details with inputs, outputs and log tail
        w.locator('g.dfw-node[data-key="prepare"]').click()
        panel = w.locator(".dfw-panel")
        panel.locator(".dfw-log").wait_for()
        assert "prepare: log line 39" in panel.locator(".dfw-log").inner_text()
        assert "s3://bucket/in.tgz" in panel.inner_text()

        # the fan-out: expand -> 1,000 children listed 200 at a time
        t1 = time.monotonic()
        w.locator('g.dfw-node[data-key="fan"]').click()
        rows = panel.locator(".dfw-row")
        page.wait_for_function(
            "() => document.querySelectorAll('.dfw-panel .dfw-row').length === 200",
            timeout=30_000,
        )
        expand_s = time.monotonic() - t1
        panel.locator("button.dfw-more").click()
        assert rows.count() == 400
        rows.nth(3).click()
        assert "square 3 -> 9" in panel.locator(".dfw-log").first.inner_text()

        shot = tmp_path / "widget-stub.png"
        w.screenshot(path=str(shot))
        keep_artifact(shot)
        print(
            f"\n[stub] first render of a 1,000-way fan-out {first:.2f}s "
            f"(JS draw {w.get_attribute('data-render-ms')} ms); {deltas} deltas merged; "
            f"expand to 200 rows {expand_s:.2f}s; screenshot {shot}"
        )
    finally:
        page.close()


def test_live_workflow_widget(lab: LabServer, browser: Any, tmp_path: Path) -> None:
    """A real workflow on the in-kernel engine, watched live; then %dflow_get and 1,000 items."""
    if importlib.util.find_spec("dflow_nb.jupyter.widget") is None:
        pytest.skip("dflow_nb/jupyter/widget.py (the Python side of the widget) is not there yet")
    page, frames = open_notebook(browser, lab, "live.ipynb")
    try:
        run_cell(page, 0)
        lab.wait_kernel_idle("live.ipynb")
        assert not cell(page, 0).locator(".jp-OutputArea-output[data-mime-type*=error]").count()

        run_cell(page, 1)
        w = cell(page, 1).locator(".dfw")
        w.wait_for(timeout=30_000)
        run_cell(page, 2)  # wf.wait(): the kernel is busy, deltas still flow
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Cell')][2]"
            "?.querySelector('.jp-OutputArea')?.innerText.includes('PHASE')",
            timeout=60_000,
        )
        assert "PHASE Succeeded" in cell_text(page, 2)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Cell')][1]"
            "?.querySelector('.dfw')?.dataset.phase === 'Succeeded'",
            timeout=15_000,
        )
        fan = node(w, "fan")
        fan_key = fan.get_attribute("data-key")
        seen = changes(page, fan_key)
        phases = [p for p, _ in seen]
        assert "Running" in phases and phases[-1] == "Succeeded", seen
        assert len({p for _, p in seen}) >= 3, seen  # progress moved during the run
        assert fan.get_attribute("data-total") == "20"
        lab.wait_kernel_idle("live.ipynb")

        # clicking a node shows its log tail
        node(w, "prepare").click()
        panel = w.locator(".dfw-panel")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.dfw-panel .dfw-log')]"
            ".some((e) => e.innerText.includes('preparing 20 items'))",
            timeout=20_000,
        )
        fan.click()
        page.wait_for_function(
            "() => document.querySelectorAll('.dfw-panel .dfw-row').length >= 20",
            timeout=20_000,
        )
        panel.locator(".dfw-row").first.click()
        assert "work item" in panel.locator(".dfw-log").first.inner_text()
        node(w, "sum").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.dfw-panel .dfw-log')]"
            ".some((e) => e.innerText.includes('summing 20 values'))",
            timeout=20_000,
        )
        shot = tmp_path / "widget-live.png"
        w.screenshot(path=str(shot))
        keep_artifact(shot)

        run_cell(page, 3)  # %dflow_get
        lab.wait_kernel_idle("live.ipynb")
        assert "SUM 2470 int" in cell_text(page, 3)

        # 1,000-way fan-out: time to first render, then the update traffic of its run
        before = (frames.comm, frames.comm_bytes)
        t0 = time.monotonic()
        run_cell(page, 4)
        big = cell(page, 4).locator(".dfw")
        big.locator('g.dfw-node[data-total="1000"]').wait_for(timeout=30_000)
        first = time.monotonic() - t0
        run_cell(page, 5)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Cell')][5]"
            "?.querySelector('.jp-OutputArea')?.innerText.includes('BIG')",
            timeout=60_000,
        )
        run_s = time.monotonic() - t0
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Cell')][4]"
            "?.querySelector('.dfw')?.dataset.phase === 'Succeeded'",
            timeout=15_000,
        )
        assert "BIG Succeeded" in cell_text(page, 5)
        deltas = int(big.get_attribute("data-deltas") or 0)
        comm = frames.comm - before[0]
        comm_kb = (frames.comm_bytes - before[1]) / 1024
        lab.wait_kernel_idle("live.ipynb")
        t1 = time.monotonic()
        big.locator('g.dfw-node[data-total="1000"]').click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Cell')][4]"
            "?.querySelectorAll('.dfw-panel .dfw-row').length > 0",
            timeout=30_000,
        )
        expand_s = time.monotonic() - t1
        shot2 = tmp_path / "widget-big.png"
        big.screenshot(path=str(shot2))
        keep_artifact(shot2)
        page.screenshot(path=str(tmp_path / "lab-page.png"))  # the whole JupyterLab page
        keep_artifact(tmp_path / "lab-page.png")
        print(
            f"\n[live] 1,000-way fan-out: first render {first:.2f}s after run "
            f"(JS draw {big.get_attribute('data-render-ms')} ms); run {run_s:.1f}s; "
            f"{deltas} deltas ({deltas / max(run_s, 0.1):.1f}/s), {comm} comm messages, "
            f"{comm_kb:.1f} KiB; expand {expand_s:.2f}s; screenshots {shot}, {shot2}"
        )
        assert deltas <= 10 * run_s + 5, (deltas, run_s)  # throttled: at most 10 a second
    finally:
        page.close()


def test_queued_hpc_job_shows_pending_with_reason(
    lab: LabServer, browser: Any, slurm_cluster: Any, tmp_path: Path
) -> None:
    """A step whose Slurm job waits in the queue is drawn Pending with Slurm's reason."""
    if importlib.util.find_spec("dpdispatcher") is None:
        pytest.skip("dpdispatcher is not installed (pip install -e '.[test]')")
    cpus = slurm_cluster.cpus
    cells = [
        f"""\
import os
os.environ["SLURM_CONF"] = {str(slurm_cluster.conf)!r}
os.chdir({str(tmp_path)!r})
from dflow_nb import ShellOPTemplate, Step, Workflow
from dflow_nb.plugins.dispatcher import DispatcherExecutor

# each job asks for every CPU of the one node: the second waits for the first
ex = DispatcherExecutor(resources_dict={{"cpu_per_node": {cpus}}}, check_interval=0.3,
                        machine_dict={{"remote_root": {str(tmp_path / "hpc")!r}}})
wf = Workflow(name="hpc-queue")
wf.add([Step("first", template=ShellOPTemplate(name="first", image="alpine", script="sleep 4"),
             executor=ex),
        Step("second", template=ShellOPTemplate(name="second", image="alpine", script="sleep 1"),
             executor=ex)])
wf.submit(wait=False)
wf""",
        'print("PHASE", wf.wait(timeout=120))',
    ]
    write_notebook(lab.root / "hpc.ipynb", cells)
    page, _frames = open_notebook(browser, lab, "hpc.ipynb")
    try:
        run_cell(page, 0)
        w = cell(page, 0).locator(".dfw")
        reason = re.compile(r"queued: (Resources|Priority)")
        queued = w.locator('g.dfw-node[data-phase="Pending"] text.dfw-s', has_text=reason)
        try:
            queued.first.wait_for(timeout=60_000)
        except Exception:
            page.screenshot(path=str(tmp_path / "hpc-fail.png"))
            keep_artifact(tmp_path / "hpc-fail.png")
            raise AssertionError(
                f"no queued node drawn; cell says: {cell_text(page, 0)!r}"
            ) from None
        text = queued.first.text_content() or ""
        # the node is wide enough for the reason; the job id may be clipped
        assert re.match(r"queued: (Resources|Priority)", text), text
        # the whole message is the node's tooltip
        box = w.locator(
            'g.dfw-node[data-phase="Pending"]', has=page.locator("text.dfw-s", has_text=reason)
        )
        tip = box.first.locator("title").text_content() or ""
        assert re.search(r"queued: (Resources|Priority), Slurm job \d+", tip), tip
        shot = tmp_path / "widget-hpc-queued.png"
        w.screenshot(path=str(shot))
        keep_artifact(shot)
        lab.wait_kernel_idle("hpc.ipynb", timeout=120)
        run_cell(page, 1)
        page.wait_for_function(
            "() => document.querySelector('.dfw[data-phase=\"Succeeded\"]')", timeout=120_000
        )
        # the widget hears the end from the kernel's thread before wait() returns and prints
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Cell')][1]"
            "?.querySelector('.jp-OutputArea')?.innerText.includes('PHASE')",
            timeout=60_000,
        )
        assert "PHASE Succeeded" in cell_text(page, 1)
        print(f"\n[hpc] queued step drawn as: {text!r}; screenshot {shot}")
    finally:
        page.close()


PASS2_CELLS = [
    """\
%load_ext dflow_nb
import pathlib, tempfile

from dflow_nb import Step, Workflow, config
from dflow_nb.python import OP, PythonOPTemplate

config["debug_workdir"] = tempfile.mkdtemp()
MARK = pathlib.Path(tempfile.mkdtemp()) / "tried"


@OP.function
def ticker(n: int) -> {"n": int}:
    import time

    for i in range(n):
        print(f"tick {i}", flush=True)
        time.sleep(0.4)
    return {"n": n}


@OP.function
def square(x: int) -> {"y": int}:
    return {"y": x * x}


@OP.function
def flaky(marker: str) -> {"ok": bool}:
    import pathlib

    from dflow_nb.python import TransientError

    p = pathlib.Path(marker)
    if not p.exists():
        p.write_text("tried")
        raise TransientError("the first try fails")
    return {"ok": True}""",
    """\
wf = Workflow(name="second-pass")
wf.add(Step("tick", template=PythonOPTemplate(ticker), parameters={"n": 10}))
wf.add([
    Step("many", template=PythonOPTemplate(square), parameters={"x": "{{item}}"},
         with_param=list(range(1000))),
    Step("par", template=PythonOPTemplate(square), parameters={"x": "{{item}}"},
         with_param=list(range(6)), parallelism=2),
    Step("flaky", template=PythonOPTemplate(flaky, retry_on_transient_error=2),
         parameters={"marker": str(MARK)}),
])
wf.submit(wait=False)  # the cell returns; the next cell waits (busy kernel)
wf""",
    'print("PHASE", wf.wait(timeout=120))',
]


def _shot(locator: Any, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    locator.screenshot(path=str(shot))
    return keep_artifact(shot)


def test_second_pass_live_details_timeline_filter_and_reopen(
    lab: LabServer, browser: Any, tmp_path: Path
) -> None:
    """Issue 15 in a browser: details live while the kernel is in wait(); a literal loop's total
    from the start; retries and parallelism on nodes; the timeline at 1,000 items; the child
    search; and the saved notebook re-opened after a kernel restart shows the final DAG."""
    write_notebook(lab.root / "pass2.ipynb", PASS2_CELLS)
    page, _frames = open_notebook(browser, lab, "pass2.ipynb")
    try:
        run_cell(page, 0)
        lab.wait_kernel_idle("pass2.ipynb")
        run_cell(page, 1)
        w = cell(page, 1).locator(".dfw")
        w.wait_for(timeout=30_000)
        run_cell(page, 2)  # the kernel is busy in wait() from now on
        many = w.locator('g.dfw-node[data-key="many"]')
        assert many.get_attribute("data-total") == "1000"  # known before the loop expands
        # the static picture beside the live view is hidden while the view lives
        assert cell(page, 1).locator(".dflow-nb-static").count() == 1
        assert not cell(page, 1).locator(".dflow-nb-static").is_visible()

        # 1. live details while busy: the log tail of the running step grows in the panel
        w.locator('g.dfw-node[data-key="tick"]').click()
        panel = w.locator(".dfw-panel")
        grows = (
            "(t) => [...document.querySelectorAll('.dfw-panel .dfw-log')]"
            ".some((e) => e.innerText.includes(t))"
        )
        page.wait_for_function(grows, arg="tick 1", timeout=20_000)
        busy_early = lab.kernel_state("pass2.ipynb")
        page.wait_for_function(grows, arg="tick 4", timeout=20_000)
        busy_late = lab.kernel_state("pass2.ipynb")
        assert busy_early == busy_late == "busy", (busy_early, busy_late)
        assert "Running" in panel.inner_text()
        shot_live = _shot(w, tmp_path, "widget-live-details.png")

        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Cell')][2]"
            "?.querySelector('.jp-OutputArea')?.innerText.includes('PHASE')",
            timeout=120_000,
        )
        assert "PHASE Succeeded" in cell_text(page, 2)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Cell')][1]"
            "?.querySelector('.dfw')?.dataset.phase === 'Succeeded'",
            timeout=15_000,
        )
        lab.wait_kernel_idle("pass2.ipynb")
        # 4. one count: the header's is the sum of the nodes'
        assert w.get_attribute("data-progress") == "1008/1008"
        assert w.locator('g.dfw-node[data-key="flaky"]').get_attribute("data-retries") == "1"
        par = w.locator('g.dfw-node[data-key="par"]')
        assert "fanout" in (par.get_attribute("class") or "")
        assert "\u20162" in (par.locator("text.dfw-b").text_content() or "")

        # 5. the timeline: every step and item, drawn on one canvas
        if panel.is_visible():
            w.locator(".dfw-x").click()
        w.locator("button.dfw-tab", has_text="Timeline").click()
        page.wait_for_function(
            "() => +(document.querySelector('.dfw[data-view=\"timeline\"]')"
            "?.dataset.timelineRows || 0) >= 1010",
            timeout=20_000,
        )
        draw_ms = float(w.get_attribute("data-timeline-ms") or 0)
        shot_time = _shot(w, tmp_path, "widget-timeline.png")
        assert draw_ms < 500, draw_ms
        w.locator("button.dfw-tab", has_text="DAG").click()

        # 5. the fan-out's child list: search item 537 (beyond the first 50)
        many.click()
        fq = panel.locator("input.dfw-fq")
        fq.wait_for()
        row = panel.locator('.dfw-row[data-name="many(537:537)"]')
        try:
            # the details answer to the click re-draws the panel; a key typed into the input it
            # replaces is lost (seen under load), so the search is typed again until it holds
            for attempt in range(3):
                fq.press_sequentially("537", delay=120) if attempt == 0 else fq.fill("537")
                try:
                    row.wait_for(timeout=8_000)
                    break
                except Exception:
                    if attempt == 2:
                        raise
        except Exception:
            _shot(w, tmp_path, "filter-fail.png")
            raise AssertionError(
                f"no item 537; panel: {panel.inner_html()[:3000]!r}; "
                f"nb: {cell(page, 1).evaluate('e => e.ownerDocument.activeElement.outerHTML')!r}"
            ) from None
        page.wait_for_function(
            "() => document.querySelector('.dfw-panel .dfw-sum')?.innerText.includes('matching')",
            timeout=20_000,
        )
        assert panel.locator(".dfw-row").count() == 1
        # answers re-render the panel: the search box keeps its text and the focus
        assert panel.locator("input.dfw-fq").input_value() == "537"
        assert page.evaluate("() => document.activeElement?.classList.contains('dfw-fq')")
        panel.locator(".dfw-row").first.click()
        assert "x" in panel.locator(".dfw-kv").first.inner_text()
        shot_filter = _shot(w, tmp_path, "widget-filter.png")

        # 2. save, restart the kernel, re-open: the final DAG is in the notebook
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        deadline = time.monotonic() + 20
        saved: dict[str, Any] = {}
        while time.monotonic() < deadline:
            saved = json.loads((lab.root / "pass2.ipynb").read_text())
            outs = saved["cells"][1].get("outputs") or []
            if any("text/html" in (o.get("data") or {}) for o in outs):
                break
            time.sleep(0.2)
        html_outs = [o for o in saved["cells"][1]["outputs"] if "text/html" in o.get("data", {})]
        assert html_outs and "Succeeded 1008/1008" in "".join(html_outs[0]["data"]["text/plain"])
        kernel = next(
            s["kernel"]["id"] for s in lab.sessions() if s["path"].endswith("pass2.ipynb")
        )
        lab.api("POST", f"/api/kernels/{kernel}/restart", timeout=60)
        page.close()
        page, _frames = open_notebook(browser, lab, "pass2.ipynb")
        static = cell(page, 1).locator(".dflow-nb-static img")
        static.wait_for(timeout=30_000)
        assert static.is_visible()
        assert (static.get_attribute("alt") or "").endswith("Succeeded 1008/1008")
        shot_reopen = _shot(cell(page, 1).locator(".jp-OutputArea"), tmp_path, "reopened.png")

        html = subprocess.run(  # noqa: S603 - the venv's own nbconvert on our notebook
            [
                str(Path(sys.executable).parent / "jupyter"),
                "nbconvert",
                "--to",
                "html",
                "--stdout",
                str(lab.root / "pass2.ipynb"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        import base64

        src = re.search(
            r'class="dflow-nb-static"[^>]*><img[^>]*src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"',
            html,
        )
        assert src, "nbconvert's HTML has no picture of the DAG"
        svg = base64.b64decode(src.group(1)).decode()
        assert "Succeeded (1008/1008)" in svg and 'data-phase="Running"' not in svg
        print(
            f"\n[pass2] timeline of 1,010 rows drawn in {draw_ms:.1f} ms; screenshots "
            f"{shot_live}, {shot_time}, {shot_filter}, {shot_reopen}"
        )
    finally:
        page.close()
