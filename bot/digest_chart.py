"""The digest's PNG chart, read at a glance: eight weeks of complaints in and out with the
median first response against its target, and the daily service-quality index below.

Made for a Slack preview: 1400 × 900 pixels (8 × 5.14 in at 175 dpi), an opaque white
card with dark text (readable in Slack's light and dark themes alike), whole-number
counts from 0, weeks labelled by their Monday ("5 Oct"), the legend above the bars,
durations in minutes while under an hour, and a note instead of an empty plot.
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")  # no display: render straight to PNG bytes, safely from any thread

from matplotlib.figure import Figure  # noqa: E402 — after choosing the backend
from matplotlib.ticker import MaxNLocator  # noqa: E402

from bot.digest import Digest  # noqa: E402

DPI = 175
SIZE_INCHES = (8, 900 / DPI)
INK, MUTED, GRID = "#1d1c1d", "#616061", "#dddddd"
LOGGED, RESOLVED, MEDIAN, TARGET, INDEX = "#1d4f91", "#7fb77e", "#d9534f", "#d9534f", "#e8912d"


def _label(point) -> str:
    monday = point.starts_at
    return f"{monday.day} {monday:%b}" if monday else point.week


def _duration_unit(seconds: list[float]) -> tuple[float, str]:
    """Minutes when every value shown is under an hour, else hours."""
    return (60, "minutes") if max(seconds, default=0) < 3600 else (3600, "hours")


def trend_chart(digest: Digest) -> bytes:
    """The chart as PNG bytes."""
    buffer = io.BytesIO()
    chart_figure(digest).savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def chart_figure(digest: Digest) -> Figure:
    """The chart's figure: the weekly volumes and times above, the daily index below."""
    points = digest.trend
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, facecolor="white")
    volumes, quality = figure.subplots(2, 1, gridspec_kw={"height_ratios": [3, 1.1], "hspace": 0.55})
    for axes in (volumes, quality):
        axes.set_facecolor("white")
        axes.tick_params(colors=INK, labelsize=8)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.grid(axis="y", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
    _volumes(volumes, points, digest)
    _quality(quality, digest)
    figure.suptitle(f"Complaints, weeks of {_label(points[0])} to {_label(points[-1])} ({digest.week})" if points else "Complaints",
                    color=INK, fontsize=11, x=0.02, ha="left")
    return figure


def _volumes(axes, points, digest: Digest) -> None:
    positions = list(range(len(points)))
    width = 0.38
    axes.bar([x - width / 2 for x in positions], [p.logged for p in points], width, label="logged", color=LOGGED)
    axes.bar([x + width / 2 for x in positions], [p.resolved for p in points], width, label="resolved", color=RESOLVED)
    axes.set_xticks(positions, [_label(p) for p in points])
    axes.set_xlim(-0.6, len(points) - 0.4)
    busiest = max([p.logged for p in points] + [p.resolved for p in points], default=0)
    axes.set_ylim(0, max(1, math.ceil(busiest * 1.1)))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    axes.set_ylabel("complaints a week", color=INK, fontsize=8)
    if busiest == 0:
        axes.text(0.5, 0.55, "No complaints in these 8 weeks", transform=axes.transAxes, ha="center", va="center",
                  color=MUTED, fontsize=11)

    medians = [p.median_first_response_seconds for p in points]
    target = digest.first_response_target_seconds
    scale, unit = _duration_unit([m for m in medians if m is not None] + ([target] if target else []))
    times = axes.twinx()
    times.spines["top"].set_visible(False)
    times.tick_params(colors=INK, labelsize=8)
    times.plot(positions, [math.nan if m is None else m / scale for m in medians], color=MEDIAN, marker="o",
               markersize=4, label="median first response")
    for x, point in zip(positions, points):
        if point.median_first_response_seconds is None and (point.logged or point.resolved):
            axes.annotate("no first\nresponses", (x, max(point.logged, point.resolved)), xytext=(0, 3),
                          textcoords="offset points", ha="center", va="bottom", fontsize=6, color=MUTED)
    if target:
        times.axhline(target / scale, color=TARGET, linestyle="--", linewidth=1,
                      label=f"first-response target ({digest.common_severity})")
    top = max([m / scale for m in medians if m is not None] + [target / scale if target else 0, 1])
    times.set_ylim(0, top * 1.15)
    times.yaxis.get_major_formatter().set_useOffset(False)
    times.set_ylabel(f"first response ({unit})", color=INK, fontsize=8)
    handles, labels = axes.get_legend_handles_labels()
    more_handles, more_labels = times.get_legend_handles_labels()
    axes.legend(handles + more_handles, labels + more_labels, loc="lower left", bbox_to_anchor=(0, 1.01), ncol=4,
                fontsize=7, frameon=False, labelcolor=INK)


def _quality(axes, digest: Digest) -> None:
    quality = digest.quality
    days = (quality.previous + quality.days) if quality else []
    positions = list(range(len(days)))
    axes.bar(positions, [d.points for d in days], 0.7, color=[INDEX if i >= 7 else "#f3c99a" for i in positions])
    axes.set_xticks(positions, [f"{d.day:%a}\n{d.day.day}" if d.day.weekday() == 0 or i == 0 else f"{d.day:%a}"[0]
                                for i, d in enumerate(days)], fontsize=6)
    axes.set_ylim(0, max([d.points for d in days] + [1]) * 1.2)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=3, min_n_ticks=1))
    total = f": {quality.total} points this week, {quality.previous_total} the week before" if quality else ""
    axes.set_title(f"Service-quality index per day (weighted failures; lower is better){total}",
                   color=INK, fontsize=8, loc="left")
