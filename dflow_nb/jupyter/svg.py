"""A static SVG of the widget's graph with the current phases, for where widgets don't render.

GitHub, nbviewer and exported notebooks show ``image/svg+xml`` but run no JavaScript, so a
workflow's output there is this picture: the same layout as the widget, each node coloured and
marked with its phase's icon, fan-out nodes with their counts. The output depends only on its
inputs (no ids, no timestamps), so re-running a notebook gives the same SVG for the same state.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = ["PHASE_STYLE", "render_svg"]

# phase -> (fill, text colour, icon); the colours of docs/widget-protocol.md
PHASE_STYLE: dict[str, tuple[str, str, str]] = {
    "Pending": ("#e0e0e0", "#333333", "\u25cb"),
    "Running": ("#1e88e5", "#ffffff", "\u25d0"),
    "Succeeded": ("#43a047", "#ffffff", "\u2713"),
    "Failed": ("#e53935", "#ffffff", "\u2717"),
    "Error": ("#8e0000", "#ffffff", "!"),
    "Skipped": ("#f2f2f2", "#777777", "\u21b7"),
    "Omitted": ("#f2f2f2", "#777777", "\u2205"),
}
_HEAD_H = 28
_FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif"


def _style(phase: str | None) -> tuple[str, str, str]:
    return PHASE_STYLE.get(phase or "Pending", PHASE_STYLE["Pending"])


def _fraction(progress: Any) -> float | None:
    """Argo's ``"N/M"`` as a fraction, or None when there is none."""
    if not isinstance(progress, str) or "/" not in progress:
        return None
    n, _, m = progress.partition("/")
    try:
        num, den = float(n), float(m)
    except ValueError:
        return None
    return max(0.0, min(1.0, num / den)) if den > 0 else None


def _counts_text(state: dict[str, Any]) -> str:
    counts = state.get("counts") or {}
    parts = [f"{_style(p)[2]}{counts[p]}" for p in PHASE_STYLE if counts.get(p)]
    total = state.get("total")
    return " ".join(parts) + (f" / {total}" if total else "")


def _clip(text: str, width_px: float) -> str:
    room = max(3, int(width_px / 7))
    return text if len(text) <= room else text[: room - 1] + "\u2026"


def render_svg(
    graph: dict[str, Any], states: dict[str, dict[str, Any]], workflow: dict[str, Any]
) -> str:
    """The SVG document (a string) of ``graph`` with ``states`` and the workflow's phase."""
    gw, gh = int(graph.get("width") or 0), int(graph.get("height") or 0)
    width, height = max(gw, 240), gh + _HEAD_H
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="{_FONT};font-size:12px">',
        '<defs><marker id="dfw-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#888888"/></marker></defs>',
    ]
    wphase = str(workflow.get("phase") or "Pending")
    fill, _, icon = _style(wphase)
    title = f"{icon} {workflow.get('name') or 'workflow'}: {wphase}"
    if workflow.get("progress"):
        title += f" ({workflow['progress']})"
    out.append(
        f'<text x="8" y="18" font-weight="bold" fill="{fill if wphase != "Pending" else "#555"}">'
        f"{escape(title)}</text>"
    )
    out.append(f'<g transform="translate(0,{_HEAD_H})">')
    for e in graph.get("edges") or []:
        pts = " ".join(f"{p[0]},{p[1]}" for p in e.get("points") or [])
        if pts:
            out.append(
                f'<polyline points="{pts}" fill="none" stroke="#888888" stroke-width="1.4" '
                'marker-end="url(#dfw-arrow)"/>'
            )
    for n in graph.get("nodes") or []:
        out.append(_node_svg(n, states.get(n["key"]) or {}))
    out.append("</g></svg>")
    return "\n".join(out)


def _node_svg(n: dict[str, Any], state: dict[str, Any]) -> str:
    phase = str(state.get("phase") or "Pending")
    fill, ink, icon = _style(phase)
    x0, y0 = n["x"] - n["w"] / 2, n["y"] - n["h"] / 2
    kind = n.get("kind", "pod")
    parts = [f'<g class="dfw-node" data-key={quoteattr(str(n["key"]))} data-phase="{phase}">']
    rx = 12 if kind == "fanout" else 4
    dash = ' stroke-dasharray="4 2"' if kind in ("steps", "dag") else ""
    if kind == "fanout":  # a stack: the group of many
        parts.append(
            f'<rect x="{x0 + 4}" y="{y0 - 4}" width="{n["w"]}" height="{n["h"]}" rx="{rx}" '
            f'fill="{fill}" opacity="0.5" stroke="#666666"/>'
        )
    tip = escape(
        f"{n['label']}: {phase}" + (f" ({state['message']})" if state.get("message") else "")
    )
    parts.append(
        f'<rect x="{x0}" y="{y0}" width="{n["w"]}" height="{n["h"]}" rx="{rx}" fill="{fill}" '
        f'stroke="#555555"{dash}><title>{tip}</title></rect>'
    )
    badges = (f" \u21bb{state['retries']}" if state.get("retries") else "") + (
        f" \u2016{n['parallelism']}" if n.get("parallelism") else ""
    )  # retried, at most n at a time (as the widget's badges)
    label = _clip(f"{icon} {n['label']}", n["w"] - 12 - 7 * len(badges)) + badges
    ty = n["y"] - (6 if kind == "fanout" else 0)
    parts.append(
        f'<text x="{n["x"]}" y="{ty}" text-anchor="middle" dominant-baseline="middle" '
        f'fill="{ink}">{escape(label)}</text>'
    )
    if kind == "fanout":
        counts = _counts_text(state)
        if counts:
            parts.append(
                f'<text x="{n["x"]}" y="{n["y"] + 12}" text-anchor="middle" '
                f'dominant-baseline="middle" font-size="10" fill="{ink}">'
                f"{escape(_clip(counts, n['w'] - 8))}</text>"
            )
    frac = _fraction(state.get("progress"))
    if frac is not None and phase == "Running":
        bw = n["w"] - 8
        parts.append(
            f'<rect x="{x0 + 4}" y="{y0 + n["h"] - 5}" width="{bw}" height="3" fill="#ffffff" '
            f'opacity="0.4"/><rect x="{x0 + 4}" y="{y0 + n["h"] - 5}" '
            f'width="{round(bw * frac, 1)}" height="3" fill="#ffffff"/>'
        )
    parts.append("</g>")
    return "".join(parts)
