"""What the coin commands say: balances, quota changes, the policy and ledger history pages.

Pure text from catalog keys, so it is testable without Discord. Discord's own markup is used only
as plain strings: `<@id>` mentions and `<t:unix:R>` timestamps, which every client renders.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.db.ledger import Balance, LedgerEntry, Policy
from bot.texts import t
from bot.texts.format import clip, discord_time, mention, one_line, signed

PAGE_SIZE = 10  # ledger rows per history page
REASON_SHOWN = 120  # characters of a reason shown in a history row
DESCRIPTION_LIMIT = 4096  # Discord's limit on an embed description


@dataclass(frozen=True)
class HistoryPage:
    """One page of a member's ledger, ready to go into an embed (title, description, footer)."""

    title: str
    description: str
    footer: str
    page: int  # 1 = the newest rows
    pages: int


def page_count(total: int) -> int:
    """Pages needed for `total` rows; an empty history still has its one (empty) page."""
    return max(1, math.ceil(total / PAGE_SIZE))


def clamp_page(page: int, total: int) -> int:
    return min(max(1, page), page_count(total))


# ---- /balance ---------------------------------------------------------------------------------


def balance_text(balance: Balance, policy: Policy, locale: str, *, member_id: int | None = None) -> str:
    """Available, held and the next refill; `member_id` when it is someone else's balance."""
    if member_id is None:
        lines = [t("coins.balance.self", locale, available=balance.available)]
    else:
        lines = [t("coins.balance.other", locale, member=mention(member_id), available=balance.available)]
    lines.append(t("coins.balance.held", locale, held=balance.held))
    if balance.next_refill is None or policy.period == "none":
        lines.append(t("coins.balance.no_refill", locale))
    else:
        lines.append(
            t("coins.balance.next_refill", locale, when=discord_time(balance.next_refill), allowance=policy.allowance)
        )
    return "\n".join(lines)


# ---- /quota grant, take, set, policy ----------------------------------------------------------

_CHANGE_KEYS = {"grant": "coins.granted", "take": "coins.taken", "set": "coins.was_set"}


def change_text(kind: str, member_id: int, amount: int, balance: Balance, locale: str) -> str:
    """The answer to a moderator's grant, take or set: what was done and the new balance."""
    return t(_CHANGE_KEYS[kind], locale, member=mention(member_id), amount=amount, available=balance.available)


def policy_text(policy: Policy, locale: str) -> str:
    """What a policy means for members, in one sentence."""
    return t(f"coins.policy.{policy.period}", locale, allowance=policy.allowance)


# ---- /quota history ---------------------------------------------------------------------------


def history_line(entry: LedgerEntry, locale: str) -> str:
    """`<t:..:R>` **grant** +25 → 125 available, 0 held · by @mod · "contest prize" """
    # A charge moves only held coins (available is untouched): show what it spent.
    change = entry.held_change if entry.kind == "charge" else entry.amount
    details: list[str] = []
    if entry.job_id is not None:
        details.append(t("coins.history.job", locale, job=entry.job_id))
    if entry.actor_id is not None:
        details.append(t("coins.history.by", locale, actor=mention(entry.actor_id)))
    if entry.consume_coins is not None:
        details.append(t("coins.history.runninghub", locale, coins=entry.consume_coins))
    if entry.reason:
        details.append(f"“{one_line(entry.reason, REASON_SHOWN)}”")
    return t(
        "coins.history.row",
        locale,
        when=discord_time(entry.created_at),
        kind=t(f"coins.kind.{entry.kind}", locale),
        change=signed(change),
        available=entry.balance_after,
        held=entry.held_after,
        details="".join(f" · {d}" for d in details),
    )


def history_page(entries: Sequence[LedgerEntry], *, member_id: int, total: int, page: int, locale: str) -> HistoryPage:
    """One page of a member's ledger, newest first; `entries` are that page's rows."""
    pages = page_count(total)
    if total == 0:
        description = t("coins.history.empty", locale, member=mention(member_id))
    else:
        lines = [mention(member_id), ""]
        lines += [history_line(entry, locale) for entry in entries]
        description = "\n".join(lines)
        if len(description) > DESCRIPTION_LIMIT:  # cannot happen with REASON_SHOWN; a guard, not a plan
            description = clip(description, DESCRIPTION_LIMIT)
    return HistoryPage(
        title=t("coins.history.title", locale, count=total),
        description=description,
        footer=t("coins.history.page", locale, page=page, pages=pages),
        page=page,
        pages=pages,
    )
