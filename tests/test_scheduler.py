"""The background tick runs each job at its own interval: the team copies' retry every
few seconds, everything else once a tick."""

from __future__ import annotations

import threading

from bot.scheduler import Ticker, every


def test_a_job_marked_every_runs_between_the_ticks_of_the_others():
    runs = {"often": 0, "each tick": 0}
    often_ran_thrice = threading.Event()

    def often() -> None:
        runs["often"] += 1
        if runs["often"] >= 3:
            often_ran_thrice.set()

    def each_tick() -> None:
        runs["each tick"] += 1

    ticker = Ticker([each_tick, every(0.01, often)], interval=3600).start()
    try:
        assert often_ran_thrice.wait(timeout=30)
    finally:
        ticker.stop()
    assert runs["each tick"] == 1


def test_the_first_tick_can_wait_so_a_new_worker_answers_first():
    ticked = threading.Event()
    ticker = Ticker([ticked.set], interval=3600, first_after=0.5).start()
    try:
        assert not ticked.wait(timeout=0.2)
        assert ticked.wait(timeout=30)
    finally:
        ticker.stop()


def test_a_ticker_stopped_before_its_first_tick_runs_nothing():
    ticked = threading.Event()
    Ticker([ticked.set], interval=3600, first_after=30).start().stop()
    assert not ticked.is_set()
