// The front end of dflow_nb's live DAG widget: an anywidget ES module, plain DOM + SVG.
//
// The protocol is docs/widget-protocol.md. Python computes the layout and sends coordinates
// (`graph`), the full node states once (`states`, `workflow`), then `delta` messages that carry
// only what changed. This module only draws: one SVG group per node (a fan-out is one node),
// updated in place when its state changes; the side panel renders a fan-out's children lazily
// (PAGE rows at a time) so 1,000 children stay cheap.
import css from "./widget.css";

const ICONS = {
  Pending: "\u25cb",
  Running: "\u25d0",
  Succeeded: "\u2713",
  Failed: "\u2717",
  Error: "!",
  Skipped: "\u21b7",
  Omitted: "\u2205",
};
const ORDER = ["Succeeded", "Running", "Failed", "Error", "Pending", "Skipped", "Omitted"];
const DONE = new Set(["Succeeded", "Failed", "Error", "Skipped", "Omitted"]);
const PAGE = 200;
const REFRESH_MS = 1000;
const SVG = "http://www.w3.org/2000/svg";
const STYLE_ID = "dflow-nb-widget-style";

const phaseOf = (p) => (p && ICONS[p] ? p : "Pending");
const iconOf = (p) => ICONS[phaseOf(p)];

function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) {
    if (k === "text") e.textContent = attrs[k];
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), attrs[k]);
    else e.setAttribute(k, attrs[k]);
  }
  for (const c of kids) if (c != null) e.append(c);
  return e;
}

function s(tag, attrs, parent) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

function ensureStyle() {
  if (document.getElementById(STYLE_ID)) return;
  const st = document.createElement("style");
  st.id = STYLE_ID;
  st.textContent = css;
  document.head.appendChild(st);
}

/** "3/10" -> 0.3; a finished node without progress counts as full. */
export function fraction(progress, phase) {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(progress || "");
  if (m && +m[2] > 0) return Math.min(1, +m[1] / +m[2]);
  return phase === "Succeeded" ? 1 : 0;
}

/** A duration in seconds; `coarse` (whole seconds known only, as Argo's timestamps) -> "<1s", "3s". */
export function fmtSeconds(sec, coarse) {
  if (!(sec >= 0) || !isFinite(sec)) return "";
  if (coarse && sec < 1) return "<1s";
  if (sec < 10) return coarse ? Math.round(sec) + "s" : sec.toFixed(1) + "s";
  if (sec < 60) return Math.round(sec) + "s";
  const m = Math.floor(sec / 60);
  if (m < 60) return m + "m " + String(Math.floor(sec % 60)).padStart(2, "0") + "s";
  return Math.floor(m / 60) + "h " + String(m % 60).padStart(2, "0") + "m";
}

/** Elapsed time of a state: finished, or still running (measured against now). */
export function duration(st) {
  if (!st || !st.startedAt) return "";
  const t0 = Date.parse(st.startedAt);
  if (isNaN(t0)) return "";
  const whole = (x) => !/\.\d/.test(x);
  if (st.finishedAt) {
    const coarse = whole(st.startedAt) && whole(st.finishedAt);
    return fmtSeconds((Date.parse(st.finishedAt) - t0) / 1000, coarse);
  }
  return st.phase === "Running" ? fmtSeconds((Date.now() - t0) / 1000, whole(st.startedAt)) : "";
}

function clip(text, max) {
  text = String(text == null ? "" : text);
  return text.length > max ? text.slice(0, Math.max(1, max - 1)) + "\u2026" : text;
}

function countsText(st) {
  const c = (st && st.counts) || {};
  const parts = [];
  for (const p of ORDER) if (c[p]) parts.push(ICONS[p] + c[p]);
  return parts.join(" ");
}

/** Move `inner` (a point inside box b) onto b's border along the line from `outer`. */
function toBorder(outer, inner, b) {
  const [ox, oy] = outer;
  const [ix, iy] = inner;
  const hw = b.w / 2,
    hh = b.h / 2;
  if (Math.abs(ix - b.x) > hw || Math.abs(iy - b.y) > hh) return inner;
  const dx = ox - b.x,
    dy = oy - b.y;
  if (dx === 0 && dy === 0) return inner;
  const t = Math.min(dx ? hw / Math.abs(dx) : Infinity, dy ? hh / Math.abs(dy) : Infinity);
  return t >= 1 ? inner : [b.x + dx * t, b.y + dy * t];
}

export function edgePath(points, from, to) {
  let pts = (points || []).map((p) => [+p[0], +p[1]]);
  if (pts.length < 2) {
    if (!from || !to) return "";
    pts = [
      [from.x, from.y],
      [to.x, to.y],
    ];
  }
  const n = pts.length;
  if (from) pts[0] = toBorder(pts[1], pts[0], from);
  if (to) pts[n - 1] = toBorder(pts[n - 2], pts[n - 1], to);
  const f = (p) => p[0].toFixed(1) + " " + p[1].toFixed(1);
  // a polyline (the protocol's points), its inner corners rounded by a short quadratic curve
  let d = "M" + f(pts[0]);
  for (let i = 1; i < n - 1; i++) {
    const [a, b, c] = [pts[i - 1], pts[i], pts[i + 1]];
    const r = Math.min(8, Math.hypot(b[0] - a[0], b[1] - a[1]) / 2, Math.hypot(c[0] - b[0], c[1] - b[1]) / 2);
    const p = (q, t) => [b[0] + (q[0] - b[0]) * t, b[1] + (q[1] - b[1]) * t];
    const la = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1,
      lc = Math.hypot(c[0] - b[0], c[1] - b[1]) || 1;
    d += "L" + f(p(a, r / la)) + "Q" + f(b) + " " + f(p(c, r / lc));
  }
  return d + "L" + f(pts[n - 1]);
}

function valueText(v) {
  if (v == null) return "";
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v);
  } catch (e) {
    return String(v);
  }
}

function kvTable(obj) {
  const rows = [];
  const add = (k, v) =>
    rows.push(h("tr", {}, h("th", { text: k }), h("td", { text: clip(valueText(v), 400), title: clip(valueText(v), 4000) })));
  const o = obj || {};
  const keys = Object.keys(o);
  const nested = keys.length && keys.every((k) => (k === "parameters" || k === "artifacts") && o[k] && typeof o[k] === "object");
  if (nested) {
    for (const k in o.parameters || {}) add(k, o.parameters[k]);
    for (const k in o.artifacts || {}) add(k + " \u29c9", o.artifacts[k]);
  } else for (const k of keys) add(k, o[k]);
  if (!rows.length) return h("div", { class: "dfw-none", text: "none" });
  return h("table", { class: "dfw-kv" }, ...rows);
}

class View {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.nodes = new Map(); // key -> {g, box, ic, sub, bar, segs, spec}
    this.running = new Set();
    this.sel = null; // selected key
    this.details = null; // last details answer for sel
    this.cache = new Map(); // key -> last details (asked, or pushed by the kernel's thread)
    this.openRows = new Set();
    this.shown = PAGE;
    this.lastAsk = 0;
    this.askTimer = null;
    this.deltas = 0;
    this.deltaBytes = 0;
    this.build();
    this.states = { ...(model.get("states") || {}) };
    this.workflow = { ...(model.get("workflow") || {}) };
    const t0 = performance.now();
    this.drawGraph();
    this.updateHead();
    this.el.dataset.renderMs = (performance.now() - t0).toFixed(1);
    this.handlers = {
      "change:graph": () => {
        this.drawGraph();
      },
      "change:states": () => {
        this.states = { ...(model.get("states") || {}) };
        for (const k of this.nodes.keys()) this.updateNode(k);
      },
      "change:workflow": () => {
        this.workflow = { ...(model.get("workflow") || {}) };
        this.updateHead();
      },
      "msg:custom": (msg) => this.onMsg(msg),
    };
    for (const ev in this.handlers) model.on(ev, this.handlers[ev]);
    this.tick = setInterval(() => this.onTick(), 1000);
    this.hideStatic();
  }

  /** The kernel also displayed a static picture of this widget (for saved notebooks): hide it
   * while this live view is on the page. */
  hideStatic() {
    const id = this.model.get("static_id");
    if (!id || !/^[\w-]+$/.test(id)) return;
    const st = document.createElement("style");
    const m = `[data-dflow-nb-static="${id}"]`;
    st.textContent = `.jp-OutputArea-child:has(${m}), .output_area:has(${m}), ${m} { display: none !important; }`;
    document.head.appendChild(st);
    this.staticStyle = st;
  }

  dispose() {
    if (this.staticStyle) this.staticStyle.remove();
    clearInterval(this.tick);
    clearTimeout(this.askTimer);
    for (const ev in this.handlers) this.model.off(ev, this.handlers[ev]);
  }

  build() {
    this.hIcon = h("span", { class: "dfw-ic" });
    this.hName = h("span", { class: "dfw-name" });
    this.hPhase = h("span", { class: "dfw-phase" });
    this.hFill = h("div");
    this.hProg = h("span", { class: "dfw-prog" });
    this.hDur = h("span", { class: "dfw-dur" });
    this.hMsg = h("div", { class: "dfw-wmsg" });
    this.tabDag = h("button", { class: "dfw-tab dfw-on", text: "DAG", onclick: () => this.view("dag") });
    this.tabTime = h("button", { class: "dfw-tab", text: "Timeline", onclick: () => this.view("timeline") });
    this.head = h(
      "div",
      { class: "dfw-head" },
      this.hIcon,
      this.hName,
      this.hPhase,
      h("div", { class: "dfw-bar" }, this.hFill),
      this.hProg,
      this.hDur,
      h("span", { class: "dfw-tabs" }, this.tabDag, this.tabTime),
    );
    this.graphBox = h("div", { class: "dfw-graph" });
    this.panel = h("div", { class: "dfw-panel", hidden: "" });
    this.timeBox = h("div", { class: "dfw-time", hidden: "" });
    this.el.classList.add("dfw");
    this.el.dataset.view = "dag";
    this.el.append(
      this.head,
      this.hMsg,
      h("div", { class: "dfw-body" }, this.graphBox, this.timeBox, this.panel),
    );
  }

  /** Switch between the DAG and the timeline (a Gantt of steps and fan-out items). */
  view(which) {
    const time = which === "timeline";
    this.el.dataset.view = which;
    this.tabDag.classList.toggle("dfw-on", !time);
    this.tabTime.classList.toggle("dfw-on", time);
    this.graphBox.hidden = time;
    this.timeBox.hidden = !time;
    if (time) {
      if (!this.gantt) this.gantt = new Gantt(this.timeBox, this.el);
      if (this.timeline) this.gantt.set(this.timeline, this.timelineAt);
      else this.gantt.empty();
      this.model.send({ type: "timeline" });
    }
  }

  drawGraph() {
    const g = this.model.get("graph") || {};
    const nodes = g.nodes || [];
    this.nodes.clear();
    this.running.clear();
    this.graphBox.textContent = "";
    if (!nodes.length) {
      this.graphBox.append(h("div", { class: "dfw-none", text: "no steps yet" }));
      return;
    }
    const W = +g.width || 200,
      H = +g.height || 100,
      pad = 8;
    const svg = s("svg", {
      class: "dfw-svg",
      width: W + 2 * pad,
      height: H + 2 * pad,
      viewBox: `${-pad} ${-pad} ${W + 2 * pad} ${H + 2 * pad}`,
      role: "img",
    });
    svg.style.minWidth = Math.round((W + 2 * pad) * 0.5) + "px";
    const defs = s("defs", {}, svg);
    const mk = s(
      "marker",
      { id: "dfw-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      defs,
    );
    s("path", { d: "M0 0L10 5L0 10z", class: "dfw-arrow" }, mk);
    const byKey = {};
    for (const n of nodes) byKey[n.key] = n;
    const edges = s("g", { class: "dfw-edges" }, svg);
    for (const e of g.edges || []) {
      const d = edgePath(e.points, byKey[e.from], byKey[e.to]);
      if (d) s("path", { d, class: "dfw-edge", "marker-end": "url(#dfw-arrow)" }, edges);
    }
    const layer = s("g", { class: "dfw-nodes" }, svg);
    for (const n of nodes) this.nodes.set(n.key, this.drawNode(n, layer));
    this.graphBox.append(svg);
    for (const k of this.nodes.keys()) this.updateNode(k);
  }

  drawNode(n, layer) {
    const w = +n.w || 120,
      hh = +n.h || 36;
    const fan = n.kind === "fanout";
    const g = s(
      "g",
      {
        class: "dfw-node dfw-k-" + (n.kind || "pod"),
        transform: `translate(${(+n.x - w / 2).toFixed(1)},${(+n.y - hh / 2).toFixed(1)})`,
        tabindex: 0,
        role: "button",
        "data-key": n.key,
      },
      layer,
    );
    const title = s("title", {}, g);
    if (fan) {
      s("rect", { class: "dfw-stack", x: 5, y: 5, width: w, height: hh, rx: 6 }, g);
      s("rect", { class: "dfw-stack", x: 2.5, y: 2.5, width: w, height: hh, rx: 6 }, g);
    }
    s("rect", { class: "dfw-under", width: w, height: hh, rx: 6 }, g);
    const box = s("rect", { class: "dfw-box", width: w, height: hh, rx: 6 }, g);
    const two = hh >= 30; // room for a second line (duration or counts)
    const ly = two ? Math.round(hh / 2 - 3) : Math.round(hh / 2 + 3);
    const cy = two ? ly + 3 : hh / 2 - 1;
    s("circle", { cx: 13, cy, r: 8 }, g);
    const ic = s("text", { class: "dfw-i", x: 13, y: cy }, g);
    const label = s("text", { class: "dfw-l", x: 26, y: ly }, g);
    const room = (w - 30) / 6.3;
    label.textContent = clip(n.label || n.key, Math.floor(fan ? room - 5 : room));
    const sub = s("text", { class: "dfw-s", x: 26, y: ly + 12 }, g);
    if (!two) sub.setAttribute("display", "none");
    const badge = fan ? s("text", { class: "dfw-b", x: w - 6, y: ly }, g) : null;
    const bw = w - 12,
      by = hh - 6;
    s("rect", { class: "dfw-bg", x: 6, y: by, width: bw, height: 3, rx: 1.5 }, g);
    const segs = {};
    let bar = null;
    if (fan) for (const p of ORDER) segs[p] = s("rect", { class: "dfw-seg dfw-p-" + p, x: 6, y: by, width: 0, height: 3 }, g);
    else bar = s("rect", { class: "dfw-f", x: 6, y: by, width: 0, height: 3, rx: 1.5 }, g);
    const open = () => this.select(n.key);
    g.addEventListener("click", open);
    g.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        open();
      }
    });
    return { g, box, ic, sub, bar, segs, badge, title, bw, spec: n, room };
  }

  updateNode(key) {
    const r = this.nodes.get(key);
    if (!r) return;
    const st = this.states[key] || {};
    const ph = phaseOf(st.phase);
    const fan = r.spec.kind === "fanout";
    r.g.setAttribute(
      "class",
      `dfw-node dfw-k-${r.spec.kind || "pod"} dfw-p-${ph}` + (this.sel === key ? " dfw-sel" : ""),
    );
    r.g.dataset.phase = ph;
    r.ic.textContent = ICONS[ph];
    if (st.phase === "Running" && st.startedAt && !st.finishedAt) this.running.add(key);
    else this.running.delete(key);
    const d = duration(st);
    if (fan) {
      const total = +st.total || 0;
      const c = st.counts || {};
      let x = 6;
      for (const p of ORDER) {
        const wdt = total > 0 ? ((+c[p] || 0) / total) * r.bw : 0;
        r.segs[p].setAttribute("x", x.toFixed(1));
        r.segs[p].setAttribute("width", wdt.toFixed(1));
        x += wdt;
      }
      r.sub.textContent = clip(countsText(st) || (total ? "0/" + total : ""), Math.floor(r.room * 1.1));
      const par = r.spec.parallelism ? "\u2016" + r.spec.parallelism + " " : "";
      const tries = st.retries ? "\u21bb" + st.retries + " " : "";
      r.badge.textContent = tries + par + (total ? "\u00d7" + total + " " : "") + (this.sel === key ? "\u25be" : "\u25b8");
      r.g.dataset.total = total;
      r.g.dataset.progress = (+c.Succeeded || 0) + "/" + total;
    } else {
      r.bar.setAttribute("width", (fraction(st.progress, ph) * r.bw).toFixed(1));
      r.g.dataset.progress = st.progress || "";
      const prog = st.progress && !/^0\/0$/.test(st.progress) && ph === "Running" ? st.progress + " " : "";
      // a step that waits (an HPC job in the queue) says why: "Slurm job 7 queued (Resources)"
      const why = ph === "Pending" && st.message ? st.message : "";
      const tries = st.retries ? " \u21bb" + st.retries : "";
      r.sub.textContent = clip(prog + (why || d || ph) + tries, Math.floor(r.room * 1.1));
    }
    r.g.dataset.retries = st.retries || 0;
    const lines = [r.spec.label || key, ph + (d ? " \u00b7 " + d : "")];
    if (st.progress) lines.push("progress " + st.progress);
    if (st.retries) lines.push("retried " + st.retries + "\u00d7");
    if (r.spec.parallelism) lines.push("at most " + r.spec.parallelism + " at a time");
    if (fan) lines.push(countsText(st));
    if (st.message) lines.push(st.message);
    r.title.textContent = lines.join("\n");
  }

  updateHead() {
    const w = this.workflow || {};
    const ph = phaseOf(w.phase);
    this.head.className = "dfw-head dfw-p-" + ph;
    this.el.dataset.phase = w.phase || "";
    this.el.dataset.progress = w.progress || "";
    this.hIcon.textContent = ICONS[ph];
    this.hName.textContent = w.name || w.id || "workflow";
    this.hName.title = w.id || "";
    this.hPhase.textContent = w.phase || "not submitted";
    this.hFill.style.width = (fraction(w.progress, ph) * 100).toFixed(1) + "%";
    this.hProg.textContent = w.progress || "";
    this.hDur.textContent = duration(w);
    this.hMsg.textContent = w.message || "";
    this.hMsg.hidden = !w.message;
  }

  onTick() {
    if (this.workflow && this.workflow.phase === "Running") this.hDur.textContent = duration(this.workflow);
    if (this.gantt && !this.timeBox.hidden && this.workflow.phase === "Running") this.gantt.draw();
    for (const k of this.running) this.updateNode(k);
  }

  onMsg(msg) {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "delta") {
      this.deltas++;
      this.el.dataset.deltas = this.deltas;
      for (const k in msg.states || {}) {
        this.states[k] = { ...(this.states[k] || {}), ...msg.states[k] };
        this.updateNode(k);
      }
      if (msg.workflow) {
        this.workflow = { ...this.workflow, ...msg.workflow };
        this.updateHead();
      }
      if (this.sel && msg.states && this.sel in msg.states) this.scheduleAsk();
    } else if (msg.type === "timeline") {
      if (msg.same_rows) {
        // a push that leaves out the rows' names, keys and levels: they are the last ones
        const prev = this.timeline && this.timeline.rows;
        if (!prev || !prev.name || prev.name.length !== msg.rows.phase.length) return;
        for (const col of ["name", "key", "level"]) msg.rows[col] = prev[col];
      }
      this.timeline = msg;
      this.timelineAt = Date.now();
      if (this.gantt) this.gantt.set(msg, this.timelineAt);
    } else if (msg.type === "details") {
      this.el.dataset.pushed = (+this.el.dataset.pushed || 0) + (msg.pushed ? 1 : 0);
      const filtered = !!(msg.filter || (msg.nodes || []).length > 50);
      if (!filtered) this.cache.set(msg.key, msg);
      if (msg.key !== this.sel) return;
      // a filtered or longer list the user asked for is not replaced by the unfiltered push
      if (this.filter && !filtered) return;
      // answers come from threads, maybe out of order: only the current search's is shown
      if (this.filter && msg.filter) {
        const f = this.filter;
        if ((msg.filter.phase || "") !== (f.phase || "") || (msg.filter.query || "") !== (f.query || "")) return;
      }
      this.details = msg;
      this.renderPanel();
    }
  }

  ask() {
    const key = this.sel;
    if (!key) return;
    const r = this.nodes.get(key);
    const fan = r && r.spec.kind === "fanout";
    this.lastAsk = Date.now();
    this.model.send({ type: fan ? "expand" : "select", key });
  }

  scheduleAsk() {
    if (this.askTimer) return;
    const wait = Math.max(0, this.lastAsk + REFRESH_MS - Date.now());
    this.askTimer = setTimeout(() => {
      this.askTimer = null;
      this.ask();
    }, wait);
  }

  select(key) {
    const prev = this.sel;
    clearTimeout(this.askTimer);
    this.askTimer = null;
    this.sel = prev === key ? null : key;
    this.details = (this.sel && this.cache.get(this.sel)) || null;
    this.openRows = new Set();
    this.shown = PAGE;
    this.filter = null;
    if (prev) this.updateNode(prev);
    if (!this.sel) {
      this.panel.hidden = true;
      this.panel.textContent = "";
      return;
    }
    this.updateNode(key);
    this.renderPanel();
    this.ask();
  }

  renderPanel() {
    const key = this.sel;
    const r = this.nodes.get(key);
    const st = this.states[key] || {};
    const ph = phaseOf(st.phase);
    const fan = r && r.spec.kind === "fanout";
    const keepScroll = this.panel.scrollTop;
    const active = document.activeElement;
    const typing = active && this.panel.contains(active) && active.classList.contains("dfw-fq");
    const caret = typing ? active.selectionStart : null;
    this.panel.hidden = false;
    this.panel.textContent = "";
    this.panel.dataset.key = key;
    this.panel.append(
      h(
        "div",
        { class: "dfw-ph dfw-p-" + ph },
        h("span", { class: "dfw-ic", text: ICONS[ph] }),
        h("b", { text: (r && r.spec.label) || key }),
        h("span", { class: "dfw-phase", text: st.phase || "" }),
        h("button", { class: "dfw-x", title: "close", text: "\u00d7", onclick: () => this.select(key) }),
      ),
    );
    const d = this.details;
    if (!d) {
      this.panel.append(h("div", { class: "dfw-none", text: "loading\u2026" }));
      return;
    }
    const kids = d.nodes || [];
    if (fan || kids.length > 1) {
      const total = +d.total || +st.total || kids.length;
      const of = d.filter ? `${kids.length} of ${d.matched} matching, ${total} in all` : `${kids.length} of ${total} listed`;
      this.panel.append(h("div", { class: "dfw-sum", text: (countsText(st) || "") + (total ? `  (${of})` : "") }));
      if (fan) this.panel.append(this.filterBar(key, st, kids.length < (d.filter ? +d.matched : total)));
      const list = h("div", { class: "dfw-list" });
      this.panel.append(list);
      const more = () => {
        const from = list.childElementCount;
        const to = Math.min(kids.length, this.shown);
        for (let i = from; i < to; i++) list.append(this.row(kids[i]));
        const left = kids.length - to;
        btn.hidden = left <= 0;
        btn.textContent = `show ${Math.min(PAGE, left)} more (${left} left)`;
      };
      const btn = h("button", {
        class: "dfw-more",
        onclick: () => {
          this.shown += PAGE;
          more();
        },
      });
      this.panel.append(btn);
      more();
      if (!kids.length) list.append(h("div", { class: "dfw-none", text: "no children yet" }));
    } else if (kids.length === 1) {
      this.panel.append(this.detail(kids[0]));
    } else {
      this.panel.append(h("div", { class: "dfw-none", text: "no details yet" }));
    }
    this.panel.scrollTop = keepScroll;
    if (typing) {
      // new answers re-render the panel; the search box keeps focus and caret
      const q = this.panel.querySelector("input.dfw-fq");
      if (q) {
        q.focus();
        if (caret != null) q.setSelectionRange(caret, caret);
      }
    }
  }

  /** Search a fan-out's children: by phase, by item number ("537") or text; page past 50. */
  filterBar(key, st, more) {
    const f = this.filter || { phase: "", query: "", limit: 50 };
    const phases = ORDER.filter((p) => (st.counts || {})[p]);
    const sel = h("select", { class: "dfw-fphase", title: "only children in this phase" }, h("option", { value: "", text: "any phase" }));
    for (const p of phases) {
      const o = h("option", { value: p, text: `${ICONS[p]} ${p} (${st.counts[p]})` });
      if (p === f.phase) o.selected = true;
      sel.append(o);
    }
    const q = h("input", { class: "dfw-fq", type: "search", placeholder: "item # or text", value: f.query || "" });
    const go = (extra) => {
      this.filter = { phase: sel.value, query: q.value.trim(), limit: 50, ...(extra || {}) };
      this.askChildren(key);
    };
    sel.addEventListener("change", () => go());
    let t = null;
    q.addEventListener("input", () => {
      clearTimeout(t);
      t = setTimeout(() => go(), 300);
    });
    const bar = h("div", { class: "dfw-filter" }, sel, q);
    if (more) {
      const shown = (this.details && this.details.nodes.length) || 0;
      bar.append(
        h("button", {
          class: "dfw-more dfw-load",
          text: "load 200 more",
          onclick: () => go({ limit: Math.min(500, shown + 200) }),
        }),
      );
    }
    return bar;
  }

  askChildren(key) {
    const f = this.filter || {};
    // meanwhile (a busy kernel answers later) filter what is already here
    if (this.details && this.details.key === key) {
      const want = (n) =>
        (!f.phase || n.phase === f.phase) &&
        (!f.query || (/^\d+$/.test(f.query) ? new RegExp("\\(" + f.query + ":").test(n.name) : n.name.toLowerCase().includes(f.query.toLowerCase())));
      const nodes = (this.cache.get(key) || this.details).nodes.filter(want);
      this.details = { ...this.details, nodes, filter: f, matched: nodes.length };
      this.renderPanel();
    }
    this.model.send({ type: "expand", key, phase: f.phase || null, query: f.query || null, limit: f.limit || 50 });
  }

  row(n) {
    const ph = phaseOf(n.phase);
    const name = n.name || "";
    const dur = n.duration != null ? fmtSeconds(+n.duration, Number.isInteger(+n.duration)) : "";
    const r = h(
      "div",
      { class: "dfw-row dfw-p-" + ph, "data-name": name },
      h("span", { class: "dfw-ic", text: ICONS[ph] }),
      h("span", { class: "dfw-rn", text: name, title: name }),
      h("span", { class: "dfw-rd", text: dur }),
    );
    const wrap = h("div", { class: "dfw-item" }, r);
    const toggle = () => {
      if (this.openRows.has(name)) {
        this.openRows.delete(name);
        wrap.lastChild !== r && wrap.lastChild.remove();
      } else {
        this.openRows.add(name);
        wrap.append(this.detail(n));
      }
    };
    r.addEventListener("click", toggle);
    if (this.openRows.has(name)) wrap.append(this.detail(n));
    return wrap;
  }

  detail(n) {
    const ph = phaseOf(n.phase);
    const box = h("div", { class: "dfw-det" });
    const meta = [n.phase || ""];
    if (n.duration != null) meta.push(fmtSeconds(+n.duration, Number.isInteger(+n.duration)));
    box.append(h("div", { class: "dfw-meta", text: meta.filter(Boolean).join(" \u00b7 ") }));
    if (n.message) box.append(h("div", { class: "dfw-msg dfw-p-" + ph, text: n.message }));
    box.append(h("div", { class: "dfw-sec", text: "inputs" }), kvTable(n.inputs));
    box.append(h("div", { class: "dfw-sec", text: "outputs" }), kvTable(n.outputs));
    box.append(h("div", { class: "dfw-sec", text: "log tail" }));
    const log = h("pre", { class: "dfw-log", text: n.log_tail || "(no log)" });
    box.append(log);
    requestAnimationFrame(() => (log.scrollTop = log.scrollHeight));
    return box;
  }
}

const COLORS = {
  Pending: "#8c959f",
  Running: "#1f77d0",
  Succeeded: "#2da44e",
  Failed: "#d1242f",
  Error: "#82071e",
  Skipped: "#b8c0c8",
  Omitted: "#b8c0c8",
};

/** A nice step for an axis of `span` seconds: about 6 ticks. */
export function tickStep(span) {
  const raw = Math.max(span, 1e-3) / 6;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

/** The timeline: one canvas, one row per step and per fan-out item; waiting is drawn pale
 * (an item's loop had started, the item had not), running in its phase's colour, retries as
 * ticks between attempts. Redrawn only when data arrives (or each second while running). */
class Gantt {
  constructor(box, root) {
    this.box = box;
    this.root = root;
    this.canvas = h("canvas", { class: "dfw-gc" });
    this.tip = h("div", { class: "dfw-gtip", hidden: "" });
    this.legend = h("div", { class: "dfw-glegend" });
    this.box.append(this.legend, h("div", { class: "dfw-gscroll" }, this.canvas), this.tip);
    this.canvas.addEventListener("mousemove", (e) => this.hover(e));
    this.canvas.addEventListener("mouseleave", () => (this.tip.hidden = true));
    this.data = null;
  }

  empty() {
    this.legend.textContent = "loading\u2026";
  }

  set(msg, at) {
    this.data = msg;
    this.at = at;
    this.draw();
  }

  now() {
    const d = this.data;
    const live = d.rows.phase.some((p) => p === "Running" || p === "Pending");
    return d.now + (live ? (Date.now() - this.at) / 1000 : 0);
  }

  geometry() {
    const d = this.data;
    const n = d.rows.name.length;
    const items = d.rows.level.filter((l) => l > 0).length;
    const itemH = items ? Math.max(2, Math.min(12, Math.floor(520 / items))) : 12;
    const ys = [];
    let y = 22;
    for (let i = 0; i < n; i++) {
      const hh = d.rows.level[i] > 0 ? itemH : 16;
      ys.push([y, hh]);
      y += hh + (d.rows.level[i] > 0 && itemH < 6 ? 0 : 2);
    }
    return { ys, height: y + 6, itemH };
  }

  draw() {
    const d = this.data;
    if (!d) return;
    const t0 = performance.now();
    const rows = d.rows;
    const n = rows.name.length;
    const width = Math.max(360, this.box.clientWidth || 640);
    const { ys, height, itemH } = this.geometry();
    const label = 150;
    let end = this.now();
    for (let i = 0; i < n; i++) if (rows.end[i] != null) end = Math.max(end, rows.end[i]);
    end = Math.max(end, 1);
    const scale = (width - label - 12) / end;
    const dpr = window.devicePixelRatio || 1;
    const c = this.canvas;
    c.width = Math.round(width * dpr);
    c.height = Math.round(height * dpr);
    c.style.width = width + "px";
    c.style.height = height + "px";
    const g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const ink = getComputedStyle(this.root).color || "#1f2328";
    g.font = "11px " + (getComputedStyle(this.root).fontFamily || "sans-serif");
    g.textBaseline = "middle";
    // axis
    const step = tickStep(end);
    g.strokeStyle = "rgba(128,128,128,0.25)";
    g.fillStyle = ink;
    g.globalAlpha = 0.7;
    for (let t = 0; t <= end + 1e-9; t += step) {
      const x = label + t * scale;
      g.beginPath();
      g.moveTo(x + 0.5, 14);
      g.lineTo(x + 0.5, height);
      g.stroke();
      g.fillText(t === 0 ? "0" : fmtSeconds(t, step >= 1), x + 2, 7);
    }
    g.globalAlpha = 1;
    const now = this.now();
    for (let i = 0; i < n; i++) {
      const [y, hh] = ys[i];
      const lvl = rows.level[i];
      const ph = rows.phase[i];
      if (lvl === 0 || itemH >= 10) {
        g.fillStyle = ink;
        g.globalAlpha = lvl === 0 ? 1 : 0.75;
        g.fillText(clip((lvl ? "  " : "") + rows.name[i], 24), 4, y + hh / 2);
        g.globalAlpha = 1;
      }
      const s0 = rows.start[i];
      if (s0 == null) continue;
      const e0 = rows.end[i] != null ? rows.end[i] : now;
      const w0 = rows.wait[i];
      if (w0 != null && s0 > w0) {
        g.fillStyle = "rgba(140,149,159,0.35)";
        g.fillRect(label + w0 * scale, y, (s0 - w0) * scale, hh);
      }
      g.fillStyle = COLORS[ph] || COLORS.Pending;
      g.globalAlpha = lvl === 0 ? 0.85 : 1;
      g.fillRect(label + s0 * scale, y, Math.max(1.5, (e0 - s0) * scale), hh);
      g.globalAlpha = 1;
      const tries = (d.attempts || {})[String(i)];
      if (tries) {
        for (const [a, b, p] of tries) {
          if (a == null) continue;
          g.fillStyle = COLORS[p] || COLORS.Pending;
          g.fillRect(label + a * scale, y + hh - 3, Math.max(1.5, ((b != null ? b : now) - a) * scale), 3);
          g.fillStyle = ink;
          g.fillRect(label + a * scale, y - 1, 1.5, hh + 2);
        }
      }
      if (rows.retries[i] && hh >= 10) {
        g.fillStyle = ink;
        g.fillText("\u21bb" + rows.retries[i], label + Math.max(s0, e0) * scale + 3, y + hh / 2);
      }
    }
    const items = rows.level.filter((l) => l > 0).length;
    this.legend.textContent =
      `${n - items} steps, ${items} items` +
      (d.left_out ? `, ${d.left_out} more not drawn` : "") +
      "  \u00b7  pale: waiting (loop started, item not yet)  \u00b7  \u21bb retries";
    this.geo = { ys, label, scale };
    this.root.dataset.timelineRows = n;
    this.root.dataset.timelineMs = (performance.now() - t0).toFixed(1);
  }

  hover(e) {
    const d = this.data;
    if (!d || !this.geo) return;
    const r = this.canvas.getBoundingClientRect();
    const y = e.clientY - r.top;
    const i = this.geo.ys.findIndex(([y0, hh]) => y >= y0 - 1 && y <= y0 + hh + 1);
    if (i < 0) {
      this.tip.hidden = true;
      return;
    }
    const rows = d.rows;
    const s0 = rows.start[i],
      e0 = rows.end[i],
      w0 = rows.wait[i];
    const parts = [rows.name[i], rows.phase[i]];
    if (w0 != null && s0 != null && s0 > w0) parts.push("waited " + fmtSeconds(s0 - w0, true));
    if (s0 != null) parts.push("ran " + fmtSeconds((e0 != null ? e0 : this.now()) - s0, true));
    if (rows.retries[i]) parts.push("retried " + rows.retries[i] + "\u00d7");
    this.tip.textContent = parts.join(" \u00b7 ");
    this.tip.hidden = false;
    this.tip.style.left = Math.min(e.clientX - r.left + 12, r.width - 200) + "px";
    this.tip.style.top = y + 34 + "px";
  }
}

export function render({ model, el }) {
  ensureStyle();
  const view = new View(model, el);
  return () => view.dispose();
}

export default { render };
