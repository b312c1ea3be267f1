"""SQLite is opened in WAL with a busy timeout; a file already in WAL is not switched again
(the switch asks for a lock that other connections may hold)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from models.db import make_engine


def test_a_new_file_is_put_in_wal_and_many_connections_open_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    engine.dispose()

    def write(n: int) -> int:
        # One engine per thread, as separate processes would have: each connects afresh.
        own = make_engine(url)
        with own.begin() as connection:
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
            connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
        own.dispose()
        return n

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(write, range(32))) == list(range(32))
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 32
    engine.dispose()
