"""Charts as inline SVG, in pure Python (no JavaScript, no plotting library): they print in the PDF too."""

from __future__ import annotations

from html import escape

PALETTE = {"attente": "#2f6f9f", "vigilance": "#c8553d", "proposition": "#3c8d5a"}
SERIES_COLOURS = ["#2f6f9f", "#c8553d", "#3c8d5a", "#d9a441", "#7b5ea7", "#4a9fa8", "#a0522d", "#6b8e23",
                  "#b0476b", "#5f6b7a"]


def series_colours(names: list[str]) -> dict[str, str]:
    """A distinct colour per series name (in the given order), for stacks that are not kinds."""
    return {name: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, name in enumerate(names)}


def _trim(label: str, limit: int = 42) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(values: dict[str, int], title: str, width: int = 640, bar: int = 22) -> str:
    """Horizontal bars, one per key, in the given order."""
    items = list(values.items())
    top = max((v for _, v in items), default=0) or 1
    label_w, gap = 260, 6
    height = 30 + len(items) * (bar + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>']
    for i, (label, value) in enumerate(items):
        y = 28 + i * (bar + gap)
        w = int((width - label_w - 60) * value / top)
        parts.append(f'<text x="0" y="{y + bar - 6}" font-size="12">{escape(_trim(label))}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar}" fill="#2f6f9f"/>')
        parts.append(f'<text x="{label_w + w + 4}" y="{y + bar - 6}" font-size="12">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def stacked_chart(rows: dict[str, dict[str, int]], series: list[str], title: str, width: int = 640,
                  bar: int = 22, colours: dict[str, str] | None = None, legend_w: int = 120) -> str:
    """Horizontal stacked bars: one bar per row key, one colour per series (e.g. kind × axis)."""
    palette = colours or PALETTE
    items = list(rows.items())
    top = max((sum(r.values()) for _, r in items), default=0) or 1
    label_w, gap = 260, 6
    per_row = max(1, (width - label_w) // legend_w)
    legend_rows = max(1, -(-len(series) // per_row))
    top_y = 30 + 16 * legend_rows
    height = top_y + 4 + len(items) * (bar + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>']
    for j, name in enumerate(series):
        colour = palette.get(name, "#888888")
        lx, ly = label_w + (j % per_row) * legend_w, 24 + 16 * (j // per_row)
        parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{lx + 16}" y="{ly + 10}" font-size="11">{escape(_trim(name, 18))}</text>')
    for i, (label, values) in enumerate(items):
        y = top_y + 4 + i * (bar + gap)
        x = label_w
        parts.append(f'<text x="0" y="{y + bar - 6}" font-size="12">{escape(_trim(label))}</text>')
        for name in series:
            v = values.get(name, 0)
            w = int((width - label_w - 60) * v / top)
            if w:
                parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{bar}" '
                             f'fill="{palette.get(name, "#888888")}"><title>{escape(name)}: {v}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 4}" y="{y + bar - 6}" font-size="12">{sum(values.values())}</text>')
    parts.append("</svg>")
    return "".join(parts)
