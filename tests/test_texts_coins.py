"""The coin commands' texts, without Discord: balances, policies and ledger history pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.db.ledger import MAX_REASON, PERIODS, Balance, LedgerEntry, Policy
from bot.texts.coins import (
    DESCRIPTION_LIMIT,
    PAGE_SIZE,
    REASON_SHOWN,
    balance_text,
    change_text,
    clamp_page,
    discord_time,
    history_line,
    history_page,
    page_count,
    policy_text,
    signed,
)

WHEN = datetime(2026, 11, 24, 10, 0, tzinfo=UTC).timestamp()


def entry(kind: str, amount: int = 0, held_change: int = 0, **fields: object) -> LedgerEntry:
    values: dict[str, object] = {
        "id": 1,
        "kind": kind,
        "amount": amount,
        "held_change": held_change,
        "balance_after": 80,
        "held_after": 0,
        "job_id": None,
        "actor_id": None,
        "reason": None,
        "consume_coins": None,
        "created_at": WHEN,
    }
    values.update(fields)
    return LedgerEntry(**values)  # type: ignore[arg-type]


def test_small_helpers() -> None:
    assert discord_time(WHEN) == f"<t:{int(WHEN)}:R>"
    assert discord_time(datetime(2026, 11, 25, tzinfo=UTC), "f") == "<t:1795564800:f>"
    assert [signed(n) for n in (5, 0, -3)] == ["+5", "0", "-3"]
    assert [page_count(n) for n in (0, 1, PAGE_SIZE, PAGE_SIZE + 1, 25)] == [1, 1, 1, 2, 3]
    assert [clamp_page(p, 25) for p in (-1, 0, 1, 3, 4, 99)] == [1, 1, 1, 3, 3, 3]
    assert clamp_page(5, 0) == 1


def test_own_balance_without_refill() -> None:
    text = balance_text(Balance(1, 2, 75, 20, None), Policy(100, "none", False), "en")
    assert (
        text == "You have 75 coins available.\n20 coins are held by running jobs.\nThis server has no automatic refill."
    )


def test_someone_elses_balance_with_the_next_refill_in_chinese() -> None:
    midnight = datetime(2026, 11, 25, tzinfo=UTC)
    text = balance_text(Balance(1, 2, 5, 0, midnight), Policy(30, "daily", True), "zh-CN", member_id=2)
    assert text == "\n".join(
        [
            "<@2> 有 5 可用金币。",
            "0 金币被运行中的任务占用。",
            f"下次补充：<t:{int(midnight.timestamp())}:R>（补足至 30 金币）。",
        ]
    )


def test_change_texts() -> None:
    balance = Balance(1, 2, 70, 0, None)
    assert change_text("grant", 2, 20, balance, "en") == "Gave 20 coins to <@2>; they now have 70 available."
    assert change_text("take", 2, 5, balance, "en") == "Took 5 coins from <@2>; they now have 70 available."
    assert change_text("set", 2, 70, balance, "en") == "Set <@2>'s available coins to 70."
    assert change_text("grant", 2, 20, balance, "zh-CN") == "已给予 <@2> 20 金币；现有 70 可用金币。"


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_policy_says_what_it_means(period: str, locale: str) -> None:
    text = policy_text(Policy(123, period, True), locale)
    assert "123" in text and text.endswith("." if locale == "en" else "。")
    if locale == "en" and period != "none":
        assert "topped up to 123 coins" in text and "coins above that are kept" in text
    texts = {policy_text(Policy(1, p, True), locale) for p in PERIODS}
    assert len(texts) == len(PERIODS)  # each period reads differently


def test_history_rows_of_every_kind() -> None:
    when = f"<t:{int(WHEN)}:R>"
    assert history_line(entry("grant", 25, actor_id=9, reason="prize"), "en") == (
        f"{when} **grant** +25 → 80 available, 0 held · by <@9> · “prize”"
    )
    assert history_line(entry("hold", -20, 20, held_after=20, job_id=12), "en") == (
        f"{when} **hold** -20 → 80 available, 20 held · job #12"
    )
    # A charge spends held coins: it shows what it spent and RunningHub's own figure.
    assert history_line(entry("charge", 0, -20, job_id=12, consume_coins=17), "en") == (
        f"{when} **charge** -20 → 80 available, 0 held · job #12 · RunningHub: 17"
    )
    assert history_line(entry("release", 20, -20, job_id=13, reason="failed"), "zh-CN") == (
        f"{when} **退还** +20 → 可用 80，占用 0 · 任务 #13 · “failed”"
    )
    assert history_line(entry("set", 0, actor_id=9), "en") == f"{when} **set** 0 → 80 available, 0 held · by <@9>"


def test_a_reason_is_kept_to_one_short_line() -> None:
    line = history_line(entry("take", -1, reason="line one\n\nline   two " + "x" * 500), "en")
    assert "\n" not in line
    quoted = line.split("“", 1)[1].rstrip("”")
    assert quoted.startswith("line one line two x") and quoted.endswith("…")
    assert len(quoted) == REASON_SHOWN


def test_a_full_page_of_the_longest_rows_fits_an_embed() -> None:
    for locale in ("en", "zh-CN"):
        rows = [
            entry(
                "charge",
                0,
                -999_999,
                job_id=2**53,
                actor_id=2**63,
                consume_coins=10**9,
                balance_after=1_000_000,
                held_after=1_000_000,
                reason="好" * MAX_REASON,
            )
            for _ in range(PAGE_SIZE)
        ]
        page = history_page(rows, member_id=2**63, total=10**6, page=10**5, locale=locale)
        assert len(page.description) < DESCRIPTION_LIMIT
        assert len(page.title) + len(page.description) + len(page.footer) < 6000
        assert page.pages == 10**5


def test_history_page_layout() -> None:
    rows = [entry("grant", 1, reason=f"gift {i}") for i in (12, 11)]
    page = history_page(rows, member_id=7, total=12, page=2, locale="en")
    assert page.title == "Coin history (12 entries, newest first)"
    assert page.footer == "Page 2 of 2" and (page.page, page.pages) == (2, 2)
    lines = page.description.splitlines()
    assert lines[:2] == ["<@7>", ""]
    assert ["gift 12" in lines[2], "gift 11" in lines[3]] == [True, True]
    empty = history_page([], member_id=7, total=0, page=1, locale="zh-CN")
    assert empty.description == "<@7> 还没有金币记录。" and empty.pages == 1
