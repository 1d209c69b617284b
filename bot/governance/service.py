"""The gate as a service: reads the guild's rules, runs the pure gate, tells the modlog.

Every way of starting a job calls `await gate.check(requester, workflow, prompt=..., params=...)`
before any coin is held or any file downloaded (/generate, the re-run button, and the edit modal
and context menu). Blocking and unblocking members go through here too, so the modlog hears of
each one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bot.db.guild_settings import BlockedMember, GuildSettingsStore
from bot.errors import UserError
from bot.governance.blocklist import Blocklist
from bot.governance.gate import BlocklistHit, Requester, Rules, check, may_run
from bot.governance.modlog import MAX_QUOTED, ModLog
from bot.texts.format import channel_mention, clip, code_block, mention
from bot.workflows import Workflow


def quoted(prompt: str | None, params: str | Mapping[str, Any] | None) -> str:
    """The prompt and params as the modlog shows them: one code block the member cannot break out of."""
    lines = [prompt or ""]
    if isinstance(params, str) and params.strip():
        lines.append(params.strip())
    elif isinstance(params, Mapping) and params:
        lines.append(" ".join(f"{k}={v}" for k, v in params.items()))
    return code_block(clip("\n".join(line for line in lines if line) or "-", MAX_QUOTED))


class Gate:
    def __init__(
        self, store: GuildSettingsStore, modlog: ModLog, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.modlog = modlog
        self.clock = clock
        self._blocklists: dict[tuple[str, ...], Blocklist] = {}

    def _blocklist(self, entries: tuple[str, ...]) -> Blocklist:
        # Compiled once per distinct list: the settings cache hands back the same tuple until a change.
        compiled = self._blocklists.get(entries)
        if compiled is None:
            if len(self._blocklists) > 64:
                self._blocklists.clear()
            compiled = self._blocklists[entries] = Blocklist.of(entries)
        return compiled

    async def rules(self, requester: Requester) -> Rules:
        settings = await self.store.get(requester.guild_id)
        blocked = await self.store.blocked(requester.guild_id, requester.member_id)
        last = None
        if settings.cooldown_seconds:
            last = await self.store.last_start(requester.guild_id, requester.member_id)
        return Rules(
            allowed_channels=settings.allowed_channels,
            cooldown_seconds=settings.cooldown_seconds,
            blocklist=self._blocklist(settings.blocklist),
            blocked=blocked is not None,
            blocked_reason=blocked.reason if blocked is not None else None,
            last_start=last,
        )

    async def check(
        self,
        requester: Requester,
        workflow: Workflow | None,
        *,
        prompt: str | None = None,
        params: str | Mapping[str, Any] | None = None,
    ) -> None:
        """Raise the first refusal as a UserError (design §9's order), or return: the job may start.

        `workflow` None checks what does not depend on the alias (before a menu offers aliases).
        """
        rules = await self.rules(requester)
        try:
            check(requester, workflow, rules, prompt=prompt, params=params, now=self.clock())
        except BlocklistHit as hit:
            await self.modlog.notice(
                requester.guild_id, "gov.modlog.blocklist",
                member=mention(requester.member_id), alias=workflow.alias if workflow else "-",
                channel=channel_mention(requester.channel_id),
                entry=hit.entry, text=quoted(prompt, params),
            )
            raise

    @staticmethod
    def visible(requester: Requester, workflows: Iterable[Workflow]) -> list[Workflow]:
        """The aliases this member may run in this channel (what /workflows and autocomplete list)."""
        return [w for w in workflows if may_run(requester, w)]

    async def block(self, guild_id: int, member_id: int, reason: str | None, actor_id: int) -> BlockedMember:
        if member_id == actor_id:
            raise UserError("gov.bad.block_self")
        blocked = await self.store.block(guild_id, member_id, reason, actor_id)
        common = {"moderator": mention(actor_id), "member": mention(member_id)}
        if blocked.reason:
            await self.modlog.notice(guild_id, "gov.modlog.blocked", reason=blocked.reason, **common)
        else:
            await self.modlog.notice(guild_id, "gov.modlog.blocked_no_reason", **common)
        return blocked

    async def unblock(self, guild_id: int, member_id: int, actor_id: int) -> None:
        await self.store.unblock(guild_id, member_id, actor_id)
        await self.modlog.notice(
            guild_id, "gov.modlog.unblocked", moderator=mention(actor_id), member=mention(member_id)
        )
