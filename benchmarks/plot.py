"""Line plots for benchmark reports, drawn with Pillow (no plotting library needed).

``line_plot({panel: {series: [(x, y), ...]}}, x_label, y_label, path)`` draws one panel per key
side by side, one coloured line with dots per series, a legend under the panels.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

PANEL, MARGIN, LEGEND_LINE = 360, 48, 16
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#555555"]


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    step = (high - low) / (count - 1)
    return [low + i * step for i in range(count)]


def _draw_panel(draw, origin, title, series, labels, colours) -> None:
    x0, y0 = origin
    points = [p for line in series.values() for p in line]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    xlo, xhi = min(xs), max(xs) + 1e-9
    ylo, yhi = (
        min(ys) - 0.05 * (max(ys) - min(ys) + 1e-9),
        max(ys) + 0.05 * (max(ys) - min(ys) + 1e-9),
    )

    def at(x: float, y: float) -> tuple[float, float]:
        return (
            x0 + MARGIN + (x - xlo) / (xhi - xlo) * (PANEL - 1.5 * MARGIN),
            y0 + PANEL - MARGIN - (y - ylo) / (yhi - ylo) * (PANEL - 2 * MARGIN),
        )

    draw.rectangle([at(xlo, yhi), at(xhi, ylo)], outline="black")
    draw.text((x0 + MARGIN, y0 + 8), title, fill="black")
    for x in _ticks(xlo, xhi):
        px, py = at(x, ylo)
        draw.text((px - 10, py + 4), f"{x:.1f}", fill="black")
    for y in _ticks(ylo, yhi):
        px, py = at(xlo, y)
        draw.text((px - 40, py - 6), f"{y:.2f}", fill="black")
    draw.text((x0 + PANEL // 2 - 30, y0 + PANEL - 20), labels[0], fill="black")
    draw.text((x0 + 4, y0 + 24), labels[1], fill="black")
    for name, line in series.items():
        colour = colours[name]
        pixels = [at(x, y) for x, y in line]
        if len(pixels) > 1:
            draw.line(pixels, fill=colour, width=2)
        for px, py in pixels:
            draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=colour)


def line_plot(panels: dict, x_label: str, y_label: str, path: Path) -> None:
    """Write a PNG of ``panels`` (see the module docstring) to ``path``."""
    names = list(dict.fromkeys(n for series in panels.values() for n in series))
    colours = {n: COLOURS[i % len(COLOURS)] for i, n in enumerate(names)}
    height = PANEL + LEGEND_LINE * (len(names) + 1)
    image = Image.new("RGB", (PANEL * len(panels), height), "white")
    draw = ImageDraw.Draw(image)
    for index, (title, series) in enumerate(panels.items()):
        _draw_panel(draw, (index * PANEL, 0), title, series, (x_label, y_label), colours)
    for index, name in enumerate(names):
        y = PANEL + LEGEND_LINE * index + 4
        draw.rectangle([MARGIN, y + 3, MARGIN + 20, y + 9], fill=colours[name])
        draw.text((MARGIN + 28, y), name, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
