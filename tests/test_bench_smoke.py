"""The benchmarks still run: each bench/*.py main at tiny sizes (their figures are not checked here)."""

from __future__ import annotations

import pytest

from bench import ack, memory, poll, pool, soak, status_edits, throughput


async def test_throughput_runs_every_mode_and_the_naive_client(capsys: pytest.CaptureFixture[str]) -> None:
    rows = await throughput.main(jobs=4, serial_jobs=2, duration=0.05, concurrencies=(1, 2), poll=0.05)
    assert [(r.label, r.concurrency, r.jobs) for r in rows] == [
        ("webhook", 1, 2), ("polling", 1, 2), ("webhook", 2, 4), ("polling", 2, 4),
    ]
    for row in rows:
        assert row.max_seen <= row.concurrency  # the account limit held
        assert row.polls >= row.jobs  # every task was asked about at least once
    out = capsys.readouterr().out
    assert "naive" in out and "goal C=5" not in out  # no C=5 row, so no verdict printed


async def test_poll_sweeps_ask_once_per_task_with_one_query(capsys: pytest.CaptureFixture[str]) -> None:
    sweeps = await poll.main(tasks=12, latency=0.002, sweeps=2)
    assert [s.requests for s in sweeps] == [12, 12]
    assert sweeps[0].edits == 12 and sweeps[1].edits == 0  # status messages edited once, then left alone
    assert all(s.statements["SELECT"] >= 1 for s in sweeps)
    assert "floor" in capsys.readouterr().out


async def test_memory_delivers_every_job_in_each_phase(capsys: pytest.CaptureFixture[str]) -> None:
    phases = await memory.main(jobs=2, size=200_000, reencode_limit=120_000)
    assert [p.label for p in phases] == [
        "Delivery, posted as files", "Delivery, re-encoded to fit", "buffered (response.read())",
    ]
    assert all(p.peak_kib >= p.idle_kib > 0 for p in phases)
    assert "goal: peak under idle" in capsys.readouterr().out


async def test_ack_measures_every_interaction(capsys: pytest.CaptureFixture[str]) -> None:
    jobs, generate = await ack.main(members=3, size=50_000, rounds=1)
    assert len(jobs.acks) == len(generate.acks) == 3
    assert len(generate.replies) == 3 and all(r >= a for r, a in zip(generate.replies, generate.acks, strict=True))
    assert "ack p99" in capsys.readouterr().out


async def test_pool_runs_every_pool_size_and_spreads_the_work(capsys: pytest.CaptureFixture[str]) -> None:
    rows = await pool.main(per_key=1, jobs_per_slot=2, duration=0.05, pools=(1, 2))
    assert [(r.keys, r.jobs) for r in rows] == [(1, 2), (2, 4)]
    assert rows[1].spread == [2, 2]  # both keys ran tasks (the bench itself checks no key ran past its limit)
    assert "goal 2 key(s)" in capsys.readouterr().out


async def test_soak_delivers_every_job_and_times_the_coin_commands(capsys: pytest.CaptureFixture[str]) -> None:
    result, timings = await soak.main(jobs=6, window=3, members=3, rows=5_000, db_jobs=500, samples=10)
    assert result.jobs == 6 and result.rss_end_kib > 0 and result.db_bytes > result.data_bytes > 0
    assert [t.label for t in timings][:2] == ["/balance", "/quota history"]
    assert all(len(t.loaded) == len(t.baseline) == 10 for t in timings)
    assert "goal RSS growth" in capsys.readouterr().out


async def test_status_edits_measures_the_board_and_the_naive_bot(capsys: pytest.CaptureFixture[str]) -> None:
    coalesced, naive = await status_edits.main(jobs=6, window=4.0, naive_window=3.0)
    assert coalesced.answered_429 == 0 and coalesced.busiest_5s <= status_edits.LIMIT
    assert coalesced.phase_waits and not coalesced.unshown  # every ending reached its message
    assert naive.edits > 0 and len(coalesced.refresh_gaps) == len(naive.refresh_gaps) == 6
    assert "naive" in capsys.readouterr().out
