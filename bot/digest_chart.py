"""The digest's PNG chart: complaints in and out per week, and the median first response."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display: render straight to PNG bytes, safely from any thread

from matplotlib.figure import Figure  # noqa: E402 — after choosing the backend

from bot.digest import WeekPoint  # noqa: E402


def trend_chart(points: Sequence[WeekPoint]) -> bytes:
    """A bar pair per week (logged, resolved) and a line of median first-response hours."""
    # Figure, not pyplot: no global figure registry, so concurrent renders don't collide.
    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    positions = range(len(points))
    width = 0.4
    axes.bar([x - width / 2 for x in positions], [p.logged for p in points], width, label="logged", color="#1d4f91")
    axes.bar([x + width / 2 for x in positions], [p.resolved for p in points], width, label="resolved", color="#7fb77e")
    axes.set_xticks(list(positions), [p.week for p in points], fontsize=8)
    axes.set_ylabel("complaints")
    hours = axes.twinx()
    medians = [None if p.median_first_response_seconds is None else p.median_first_response_seconds / 3600 for p in points]
    hours.plot(list(positions), [float("nan") if m is None else m for m in medians], color="#d9534f", marker="o",
               label="median first response (h)")
    hours.set_ylabel("median first response (hours)")
    hours.set_ylim(bottom=0)
    lines = axes.get_legend_handles_labels()
    more = hours.get_legend_handles_labels()
    axes.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize=8)
    axes.set_title(f"Complaints in and out, {points[0].week} to {points[-1].week}" if points else "No data")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
