"""Charts drawn on the server as SVG: no JavaScript, no CDN, and WeasyPrint prints them as they are."""

from __future__ import annotations

from markupsafe import Markup, escape

BAR = "#0d6efd"
LINE = "#198754"
GRID = "#dee2e6"


def _svg(width: int, height: int, title: str, body: list[str], chart_id: str) -> Markup:
    # Every text drawn in the charts goes through escape(); the rest are numbers.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{chart_id}-title" class="chart-svg" id="{chart_id}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def horizontal_bars(
    items: list[tuple[str, int]], title: str, chart_id: str, width: int = 560
) -> Markup:
    """One bar per item, longest first, with its value at the end of the bar."""
    if not items:
        return Markup()
    label_width, row = 190, 26
    height = row * len(items) + 16
    top = max(value for _label, value in items) or 1
    span = width - label_width - 50
    body = []
    for index, (label, value) in enumerate(items):
        y = 8 + index * row
        length = span * value / top
        body.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" fill="{BAR}"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 16}">{value}</text>'
        )
    return _svg(width, height, title, body, chart_id)


def per_year(
    rows: list[tuple[int, int, int]],
    title: str,
    chart_id: str,
    highlight: int | None = None,
    width: int = 640,
    height: int = 260,
) -> Markup:
    """Selections per year as bars, and the running total as a line on its own scale."""
    if not rows:
        return Markup()
    left, right, top_pad, bottom = 40, 50, 20, 36
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    slot = plot_w / len(rows)
    top_count = max(n for _y, n, _t in rows) or 1
    top_total = max(t for _y, _n, t in rows) or 1
    body = [
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" stroke="{GRID}"/>'
    ]
    points = []
    for index, (year, count, total) in enumerate(rows):
        x = left + index * slot
        bar_h = plot_h * count / top_count
        colour = BAR if year != highlight else "#fd7e14"
        body.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{top_pad + plot_h - bar_h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{bar_h:.1f}" fill="{colour}"><title>{year}: {count}</title></rect>'
            f'<text x="{x + slot / 2:.1f}" y="{top_pad + plot_h - bar_h - 4:.1f}" text-anchor="middle">{count}</text>'
            f'<text x="{x + slot / 2:.1f}" y="{height - 18}" text-anchor="middle">{year}</text>'
        )
        points.append((x + slot / 2, top_pad + plot_h - plot_h * total / top_total, total))
    body.append(
        f'<polyline fill="none" stroke="{LINE}" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y, _t in points)
        + '"/>'
    )
    for x, y, total in points:
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{LINE}"><title>{total}</title></circle>'
        )
    last_x, last_y, last_total = points[-1]
    body.append(
        f'<text x="{last_x + 8:.1f}" y="{last_y + 4:.1f}" fill="{LINE}">{last_total}</text>'
    )
    body.append(
        f'<text x="{left}" y="{height - 2}" class="legend">■ selected in the year</text>'
        f'<text x="{left + 220}" y="{height - 2}" fill="{LINE}" class="legend">— running total</text>'
    )
    return _svg(width, height, title, body, chart_id)
