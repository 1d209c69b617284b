"""The aliases a guild manages from Discord, in SQLite: its own aliases and its overrides of the file's.

A guild alias is stored as its workflows.toml table (JSON) and read back through the same
validation as the file (`parse_workflow_table`), so the database can never hold an alias the file
would refuse. Knows nothing of Discord; the registry mirrors what is stored here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from bot.db.database import Database
from bot.workflows import (
    SERVER,
    Override,
    Workflow,
    WorkflowConfigError,
    WorkflowRegistry,
    parse_workflow_table,
    workflow_table,
)

log = logging.getLogger(__name__)


class WorkflowStore:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    # ---- reading

    async def server_aliases(self) -> dict[int, dict[str, Workflow]]:
        """guild id -> alias -> Workflow, every guild. A row that no longer validates is skipped
        (and logged), so one bad row cannot stop the bot."""
        found: dict[int, dict[str, Workflow]] = {}
        rows = await self.db.fetchall(
            "SELECT guild_id, alias, definition FROM guild_workflows ORDER BY guild_id, alias"
        )
        for row in rows:
            guild_id, alias = int(row["guild_id"]), str(row["alias"])
            try:
                workflow = parse_workflow_table(
                    alias, json.loads(row["definition"]), source=f"guild {guild_id}", origin=SERVER
                )
            except (ValueError, WorkflowConfigError) as exc:
                log.error("skipping the stored alias %s of guild %s: %s", alias, guild_id, exc)
                continue
            found.setdefault(guild_id, {})[alias] = workflow
        return found

    async def overrides(self) -> dict[int, dict[str, Override]]:
        found: dict[int, dict[str, Override]] = {}
        rows = await self.db.fetchall("SELECT guild_id, alias, cost, enabled, timeout FROM guild_workflow_overrides")
        for row in rows:
            enabled = row["enabled"]
            override = Override(
                cost=row["cost"], enabled=None if enabled is None else bool(enabled), timeout=row["timeout"]
            )
            found.setdefault(int(row["guild_id"]), {})[str(row["alias"])] = override
        return found

    async def load(self, file_workflows: WorkflowRegistry) -> WorkflowRegistry:
        """The one registry: the file's aliases with every guild's own aliases and overrides."""
        return WorkflowRegistry(
            file_workflows.workflows, server=await self.server_aliases(), overrides=await self.overrides()
        )

    async def load_into(self, registry: WorkflowRegistry) -> None:
        """Add every guild's stored aliases and overrides to `registry` (at start-up)."""
        for guild_id, aliases in (await self.server_aliases()).items():
            for workflow in aliases.values():
                registry.put_server_alias(guild_id, workflow)
        for guild_id, overrides in (await self.overrides()).items():
            for alias, override in overrides.items():
                registry.put_override(guild_id, alias, override)

    # ---- writing

    async def add(self, guild_id: int, workflow: Workflow, *, actor_id: int) -> bool:
        """Store a new guild alias; False (nothing written) when the guild already has that name."""
        now = self.clock()
        definition = json.dumps(workflow_table(workflow), ensure_ascii=False)
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO guild_workflows (guild_id, alias, definition, created_by, created_at,"
                " updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (guild_id, workflow.alias, definition, actor_id, now, actor_id, now),
            )
            return cursor.rowcount == 1

    async def update(self, guild_id: int, workflow: Workflow, *, actor_id: int) -> bool:
        """Replace a guild alias's definition; False when it is not there (removed meanwhile)."""
        definition = json.dumps(workflow_table(workflow), ensure_ascii=False)
        count = await self.db.execute(
            "UPDATE guild_workflows SET definition = ?, updated_by = ?, updated_at = ?"
            " WHERE guild_id = ? AND alias = ?",
            (definition, actor_id, self.clock(), guild_id, workflow.alias),
        )
        return count == 1

    async def remove(self, guild_id: int, alias: str) -> bool:
        count = await self.db.execute("DELETE FROM guild_workflows WHERE guild_id = ? AND alias = ?", (guild_id, alias))
        return count == 1

    async def set_override(self, guild_id: int, alias: str, override: Override, *, actor_id: int) -> None:
        """Write a guild's override of a file alias (an empty one deletes the row)."""
        if not override:
            await self.db.execute(
                "DELETE FROM guild_workflow_overrides WHERE guild_id = ? AND alias = ?", (guild_id, alias)
            )
            return
        enabled = None if override.enabled is None else int(override.enabled)
        await self.db.execute(
            "INSERT INTO guild_workflow_overrides (guild_id, alias, cost, enabled, timeout, updated_by,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, alias) DO UPDATE SET"
            " cost = excluded.cost, enabled = excluded.enabled, timeout = excluded.timeout,"
            " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (guild_id, alias, override.cost, enabled, override.timeout, actor_id, self.clock()),
        )
