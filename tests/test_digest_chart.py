"""The digest's chart (bot/digest_chart.py): size, axes and notes on an empty and a busy history."""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.digest import weekly_digest
from bot.digest_chart import chart_figure, trend_chart
from bot.sla import DEFAULT_SLA_TARGETS, parse_targets
from bot.weeks import IsoWeek
from tests.digest_data import load_known_history


def digest_of(open_session, targets=DEFAULT_SLA_TARGETS):
    with open_session() as session:
        return weekly_digest(session, week=IsoWeek.parse("2026-W47"), zone=ZoneInfo("UTC"),
                             now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC), targets=parse_targets(targets))


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", png[16:24])


def texts(figure) -> list[str]:
    return [text.get_text() for axes in figure.axes for text in axes.texts]


def test_an_empty_history_says_so_with_a_count_axis_from_0_to_1(open_session):
    digest = digest_of(open_session)
    assert png_size(trend_chart(digest)) == (1400, 900)
    figure = chart_figure(digest)
    volumes = figure.axes[0]
    assert volumes.get_ylim() == (0, 1)
    assert [tick.get_text() for tick in volumes.get_yticklabels()] == ["0", "1"]
    assert "No complaints in these 8 weeks" in texts(figure)
    assert [tick.get_text() for tick in volumes.get_xticklabels()][:2] == ["28 Sep", "5 Oct"]


def test_a_busy_history_has_whole_number_counts_dates_a_target_line_and_the_daily_index(open_session):
    load_known_history(open_session)
    digest = digest_of(open_session)
    assert png_size(trend_chart(digest)) == (1400, 900)
    figure = chart_figure(digest)
    volumes, quality, times = figure.axes
    labels = [tick.get_text() for tick in volumes.get_yticklabels()]
    assert labels and all(label.isdigit() for label in labels)  # no 0.25 ... 2.00
    assert volumes.get_ylim()[0] == 0 and volumes.get_ylim()[1] >= 6
    assert [tick.get_text() for tick in volumes.get_xticklabels()][-1] == "16 Nov"
    # The legend sits above the bars, not over them.
    figure.canvas.draw()
    legend, plot = volumes.get_legend().get_window_extent(), volumes.get_window_extent()
    assert legend.y0 >= plot.y1
    assert [text.get_text() for text in volumes.get_legend().get_texts()] == [
        "logged", "resolved", "median first response", "first-response target (normal)"]
    # Medians of 1 h and 2 h against an 8 h target: hours, with no offset on the axis.
    assert times.get_ylabel() == "first response (hours)" and times.yaxis.get_offset_text().get_text() == ""
    [target] = [line for line in times.get_lines() if line.get_linestyle() == "--"]
    assert target.get_ydata()[0] == 8
    # Weeks with complaints but no first response say so instead of leaving a gap (W45: C8).
    assert texts(figure).count("no first\nresponses") == 1
    assert [bar.get_height() for bar in quality.patches] == [d.points for d in digest.quality.previous + digest.quality.days]
    assert f"{digest.quality.total} points this week, {digest.quality.previous_total} the week before" in quality.get_title(loc="left")


def test_short_times_are_shown_in_minutes(open_session):
    load_known_history(open_session)
    digest = digest_of(open_session, targets="urgent=30m/8h,high=40m/24h,normal=45m/72h,low=50m/120h")
    short = replace(digest, trend=[
        replace(point, median_first_response_seconds=1800 if point.logged else None) for point in digest.trend
    ])
    times = chart_figure(short).axes[2]
    assert times.get_ylabel() == "first response (minutes)"
    assert [line.get_ydata()[0] for line in times.get_lines() if line.get_linestyle() == "--"] == [pytest.approx(45)]
