"""The guild aliases and overrides in SQLite (migration 004), on a real file, read back after a reopen."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.db.database import Database
from bot.db.workflow_store import WorkflowStore
from bot.workflows import SERVER, Override, Workflow, WorkflowInput, WorkflowRegistry

GUILD, OTHER = 111, 222
PROMPT = WorkflowInput(name="prompt", kind="text", node_id="6", field="text", required=True, max_length=2000)
STEPS = WorkflowInput(name="steps", kind="int", node_id="3", field="steps", default=25, min=1, max=150)


def alias(name: str = "cats", **changes: object) -> Workflow:
    fields: dict[str, object] = {
        "alias": name,
        "description": "Cat pictures",
        "description_zh": "猫咪图片",
        "cost": 7,
        "workflow_id": "2016195556967714818",
        "inputs": (PROMPT, STEPS),
        "origin": SERVER,
        **changes,
    }
    return Workflow(**fields)  # type: ignore[arg-type]


async def reopened(path: Path) -> tuple[dict[int, dict[str, Workflow]], dict[int, dict[str, Override]]]:
    db = await Database.open(path)
    try:
        store = WorkflowStore(db)
        return await store.server_aliases(), await store.overrides()
    finally:
        await db.close()


async def test_aliases_and_overrides_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    db = await Database.open(path)
    store = WorkflowStore(db, clock=lambda: 1000.0)
    assert await store.add(GUILD, alias(), actor_id=9)
    assert not await store.add(GUILD, alias(cost=1), actor_id=9)  # the name is taken in this guild
    assert await store.add(OTHER, alias(cost=1), actor_id=9)  # but free in another
    assert await store.update(GUILD, alias(cost=3, enabled=False), actor_id=8)
    assert not await store.update(GUILD, alias("ghost"), actor_id=8)
    await store.set_override(GUILD, "z-image", Override(cost=2, enabled=False, timeout=300), actor_id=9)
    rows = await db.fetchall(
        "SELECT created_by, updated_by, updated_at FROM guild_workflows WHERE guild_id = ?", (GUILD,)
    )
    assert [tuple(r) for r in rows] == [(9, 8, 1000.0)]
    await db.close()

    aliases, overrides = await reopened(path)
    assert aliases[GUILD]["cats"] == alias(cost=3, enabled=False)
    assert aliases[OTHER]["cats"].cost == 1
    assert overrides == {GUILD: {"z-image": Override(cost=2, enabled=False, timeout=300)}}


async def test_remove_and_an_empty_override_delete_their_rows(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    try:
        store = WorkflowStore(db)
        await store.add(GUILD, alias(), actor_id=9)
        await store.set_override(GUILD, "z-image", Override(cost=2), actor_id=9)
        assert await store.remove(GUILD, "cats") and not await store.remove(GUILD, "cats")
        await store.set_override(GUILD, "z-image", Override(), actor_id=9)
        assert await store.server_aliases() == {} and await store.overrides() == {}
    finally:
        await db.close()


async def test_a_stored_alias_that_no_longer_validates_is_skipped_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = await Database.open(tmp_path / "bot.db")
    try:
        store = WorkflowStore(db)
        await store.add(GUILD, alias(), actor_id=9)
        await store.add(GUILD, alias("dogs"), actor_id=9)
        await db.execute("UPDATE guild_workflows SET definition = '{\"cost\": -1}' WHERE alias = 'dogs'")
        registry = WorkflowRegistry({})
        with caplog.at_level(logging.ERROR, logger="bot.db.workflow_store"):
            await store.load_into(registry)
        assert list(registry.server_aliases(GUILD)) == ["cats"]
        assert "skipping the stored alias dogs of guild 111" in caplog.text
    finally:
        await db.close()


async def test_the_database_refuses_a_negative_override_cost(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.db")
    try:
        with pytest.raises(Exception, match="CHECK"):
            await WorkflowStore(db).set_override(GUILD, "z-image", Override(cost=-1), actor_id=9)
    finally:
        await db.close()
