"""/workflow add|edit|remove|show|reload without Discord: the service against the simulator and a real
SQLite file. Every refusal is checked to leave the database and the registry as they were."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.db.database import Database
from bot.db.workflow_store import WorkflowStore
from bot.errors import UserError
from bot.runninghub.client import RunningHubClient
from bot.runninghub.simulator import CREATE_PATH, NEVER_RUN_WORKFLOW_ID, Simulator
from bot.texts import Msg, t
from bot.texts.workflow_admin import render_added, render_edited, render_reloaded, render_shown
from bot.workflow_admin import PROBE_NODE, WorkflowAdmin
from bot.workflows import FILE, SERVER, load_workflows

ROOT = Path(__file__).resolve().parents[1]
TEXT_TO_IMAGE = "2016195556967714818"
STYLE_TRANSFER = "2014552598229032961"
APP = "1937000000000000001"
GUILD, OTHER_GUILD, MOD = 111, 222, 999


@dataclass
class Setup:
    admin: WorkflowAdmin
    store: WorkflowStore
    db: Database
    sim: Simulator
    path: Path

    async def stored(self) -> list[tuple[int, str, str]]:
        rows = await self.db.fetchall("SELECT guild_id, alias, definition FROM guild_workflows ORDER BY alias")
        overrides = await self.db.fetchall("SELECT * FROM guild_workflow_overrides")
        return [(r[0], r[1], r[2]) for r in rows] + [tuple(r) for r in overrides]  # type: ignore[misc]


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    path = tmp_path / "workflows.toml"
    shutil.copy(ROOT / "data" / "workflows.toml", path)
    sim = Simulator(queue_seconds=0.01, run_seconds=0.01)
    await sim.start()
    db = await Database.open(tmp_path / "bot.db")
    try:
        async with aiohttp.ClientSession() as session:
            client = RunningHubClient(session, sim.base_url, sim.api_key, max_attempts=1)
            store = WorkflowStore(db)
            registry = await store.load(load_workflows(path))
            yield Setup(WorkflowAdmin(registry, store, client, path), store, db, sim, path)
    finally:
        await db.close()
        await sim.stop()


async def test_add_maps_the_inputs_stores_the_alias_and_serves_it_at_once(setup: Setup) -> None:
    added = await setup.admin.add(
        GUILD, MOD, target_id=TEXT_TO_IMAGE, alias="cats", cost=7, description="Cats", description_zh="猫咪"
    )
    workflow = setup.admin.registry.for_guild(GUILD).get("cats")
    assert workflow == added.workflow and workflow.origin == SERVER
    assert (workflow.workflow_id, workflow.cost, workflow.description_zh) == (TEXT_TO_IMAGE, 7, "猫咪")
    prompt = workflow.input("prompt")
    assert prompt is not None and (prompt.node_id, prompt.field, prompt.required) == ("6", "text", True)
    assert "cats" not in setup.admin.registry.for_guild(OTHER_GUILD)
    # It survives a restart: a fresh registry from the same database has it.
    again = await setup.store.load(load_workflows(setup.path))
    assert again.for_guild(GUILD).get("cats") == workflow
    # The reply shows the mapping with node ids and the /workflow edit to adjust it.
    text = render_added(added, "en")
    assert "`prompt` ← node 6 · CLIPTextEncode · `text` (required)" in text
    assert "`steps` ← node 3 · KSampler · `steps` (default 25, 1 to 150)" in text
    assert "/workflow edit alias:cats" in text and len(text) <= 2000
    assert "节点 6" in render_added(added, "zh-CN")
    # The 810 question reached RunningHub as a create naming a node no workflow has; nothing ran.
    probes = [r for r in setup.sim.requests if r.path == CREATE_PATH]
    assert [p.json["nodeInfoList"][0]["nodeId"] for p in probes] == [PROBE_NODE]
    assert setup.sim.tasks == {}


async def test_add_of_an_ai_app(setup: Setup) -> None:
    added = await setup.admin.add(GUILD, MOD, target_id=APP, alias="app-one", cost=0, app=True)
    assert added.workflow.webapp_id == APP
    assert [(i.name, i.node_id) for i in added.workflow.inputs] == [("image", "39"), ("prompt", "52"), ("steps", "61")]
    assert not [r for r in setup.sim.requests if r.path == CREATE_PATH]  # apps have no 810


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"alias": "Bad Name"}, "wfadmin.bad_alias"),
        ({"alias": "x" * 33}, "wfadmin.bad_alias"),
        ({"alias": "z-image"}, "wfadmin.alias_in_file"),
        ({"cost": -1}, "wfadmin.negative_cost"),
        ({"target_id": "12ab"}, "wfadmin.bad_id"),
        ({"target_id": "123"}, "wfadmin.unknown_workflow"),
        ({"target_id": "123", "app": True}, "wfadmin.unknown_app"),
        ({"target_id": NEVER_RUN_WORKFLOW_ID}, "wfadmin.never_run"),
        ({"description": "d" * 101}, "wfadmin.description_too_long"),
        ({"description_zh": "   "}, "wfadmin.description_empty"),
    ],
)
async def test_each_bad_add_is_one_sentence_and_stores_nothing(
    setup: Setup, changes: dict[str, object], key: str
) -> None:
    options: dict[str, object] = {"target_id": TEXT_TO_IMAGE, "alias": "fresh", "cost": 5, **changes}
    before = await setup.stored()
    with pytest.raises(UserError) as caught:
        await setup.admin.add(GUILD, MOD, **options)  # type: ignore[arg-type]
    assert caught.value.key == key
    for locale in ("en", "zh-CN"):
        sentence = caught.value.render(locale)
        assert sentence.count("\n") == 0 and sentence.rstrip()[-1] in ".。"
    assert await setup.stored() == before
    assert setup.admin.registry.for_guild(GUILD).find(str(options["alias"]).lower()) is None or key.endswith("in_file")


async def test_an_alias_already_added_in_this_server_is_refused_but_free_in_another(setup: Setup) -> None:
    await setup.admin.add(GUILD, MOD, target_id=TEXT_TO_IMAGE, alias="cats", cost=7)
    before = await setup.stored()
    with pytest.raises(UserError) as caught:
        await setup.admin.add(GUILD, MOD, target_id=STYLE_TRANSFER, alias="cats", cost=1)
    assert caught.value.key == "wfadmin.alias_in_server"
    assert await setup.stored() == before
    await setup.admin.add(OTHER_GUILD, MOD, target_id=STYLE_TRANSFER, alias="cats", cost=1)
    assert setup.admin.registry.for_guild(OTHER_GUILD).get("cats").workflow_id == STYLE_TRANSFER
    assert setup.admin.registry.for_guild(GUILD).get("cats").workflow_id == TEXT_TO_IMAGE


async def test_edit_changes_a_server_alias_and_survives_a_restart(setup: Setup) -> None:
    await setup.admin.add(GUILD, MOD, target_id=TEXT_TO_IMAGE, alias="cats", cost=7)
    workflow, changes = await setup.admin.edit(
        GUILD, MOD, "cats", cost=9, description="Cat pictures", description_zh="猫的图片", timeout=600
    )
    assert (workflow.cost, workflow.timeout, workflow.description_zh) == (9, 600, "猫的图片")
    assert {c.field for c in changes} == {"cost", "description", "description_zh", "timeout"}
    await setup.admin.edit(GUILD, MOD, "cats", enabled=False)
    again = await setup.store.load(load_workflows(setup.path))
    stored = again.for_guild(GUILD).find("cats")
    assert stored is not None and (stored.cost, stored.timeout, stored.enabled) == (9, 600, False)
    assert "cats" not in [w.alias for w in again.for_guild(GUILD).all()]



async def test_edit_removes_the_chinese_description_with_a_dash(setup: Setup) -> None:
    await setup.admin.add(GUILD, MOD, target_id=TEXT_TO_IMAGE, alias="cats", cost=7, description_zh="猫的图片")
    workflow, changes = await setup.admin.edit(GUILD, MOD, "cats", description_zh=" - ")
    assert workflow.description_zh is None
    assert [(c.field, c.old, c.new) for c in changes] == [("description_zh", "猫的图片", None)]
    assert render_edited(workflow, changes, "en") == t(
        "wfadmin.edited", "en", alias="cats", changes="Chinese description “猫的图片” → (none)"
    )
    again = await setup.store.load(load_workflows(setup.path))
    stored = again.for_guild(GUILD).find("cats")
    assert stored is not None and stored.description_zh is None
    # Nothing left to remove: said so, nothing changes.
    _, changes = await setup.admin.edit(GUILD, MOD, "cats", description_zh="-")
    assert changes == []


async def test_edit_of_a_file_alias_overrides_cost_enabled_timeout_for_this_server_only(setup: Setup) -> None:
    workflow, _ = await setup.admin.edit(GUILD, MOD, "z-image", cost=2, timeout=300)
    assert (workflow.cost, workflow.timeout, workflow.origin) == (2, 300, FILE)
    assert setup.admin.registry.for_guild(OTHER_GUILD).get("z-image").cost == 10
    assert setup.admin.registry.workflows["z-image"].cost == 10  # the file's own is untouched
    shown = render_shown(setup.admin.show(GUILD, "z-image"), "en")
    assert "cost 2 (file: 10)" in shown and "timeout 300 s (file: 1200 s)" in shown
    again = await setup.store.load(load_workflows(setup.path))
    assert again.for_guild(GUILD).get("z-image").cost == 2
    # Setting the file's own value back drops the override.
    await setup.admin.edit(GUILD, MOD, "z-image", cost=10, timeout=1200)
    assert await setup.db.fetchall("SELECT * FROM guild_workflow_overrides") == []
    with pytest.raises(UserError) as caught:
        await setup.admin.edit(GUILD, MOD, "z-image", description="mine")
    assert caught.value.key == "wfadmin.file_description"


@pytest.mark.parametrize(
    ("alias", "changes", "key"),
    [
        ("nope", {"cost": 1}, "wfadmin.unknown_alias"),
        ("z-image", {}, "wfadmin.nothing_to_edit"),
        ("z-image", {"cost": -5}, "wfadmin.negative_cost"),
        ("z-image", {"timeout": 0}, "wfadmin.bad_timeout"),
        ("z-image", {"description_zh": "中文"}, "wfadmin.file_description"),
        ("z-image", {"description_zh": "-"}, "wfadmin.file_description"),
    ],
)
async def test_each_bad_edit_is_one_sentence_and_changes_nothing(
    setup: Setup, alias: str, changes: dict[str, object], key: str
) -> None:
    before = await setup.stored()
    with pytest.raises(UserError) as caught:
        await setup.admin.edit(GUILD, MOD, alias, **changes)  # type: ignore[arg-type]
    assert caught.value.key == key
    assert await setup.stored() == before
    assert setup.admin.registry.for_guild(GUILD).get("z-image").cost == 10


async def test_remove_forgets_a_server_alias_and_refuses_file_ones(setup: Setup) -> None:
    await setup.admin.add(GUILD, MOD, target_id=TEXT_TO_IMAGE, alias="cats", cost=7)
    await setup.admin.remove(GUILD, MOD, "cats")
    assert setup.admin.registry.for_guild(GUILD).find("cats") is None
    assert await setup.stored() == []
    for alias, key in (("z-image", "wfadmin.remove_file_alias"), ("cats", "wfadmin.unknown_alias")):
        with pytest.raises(UserError) as caught:
            await setup.admin.remove(GUILD, MOD, alias)
        assert caught.value.key == key
    # The name is free again.
    await setup.admin.add(GUILD, MOD, target_id=STYLE_TRANSFER, alias="cats", cost=1)


async def test_reload_swaps_a_valid_file_and_keeps_the_old_set_on_an_invalid_one(setup: Setup) -> None:
    text = setup.path.read_text()
    setup.path.write_text(text.replace("cost = 10\n", "cost = 12\n", 1))
    reloaded = await setup.admin.reload(GUILD)
    assert reloaded.count == 5 and setup.admin.registry.for_guild(GUILD).get("z-image").cost == 12

    setup.path.write_text(text.replace("timeout = 1800", 'timeout = "long"'))
    with pytest.raises(UserError) as caught:
        await setup.admin.reload(GUILD)
    assert caught.value.key == "wfadmin.reload_failed"
    assert caught.value.params == {"alias": "animate", "key": "timeout", "reason": Msg("wfconfig.timeout_invalid")}
    assert "alias 'animate', key 'timeout'" in caught.value.render("en")
    assert setup.admin.registry.for_guild(GUILD).get("z-image").cost == 12  # the previous set stays

    # A file alias taking the name of a server alias hides it; the reply says so.
    await setup.admin.add(GUILD, MOD, target_id=STYLE_TRANSFER, alias="later", cost=1)
    setup.path.write_text(
        text + '\n[workflows.later]\nworkflow_id = "1990000000000000001"\ndescription = "d"\ncost = 3\n'
    )
    reloaded = await setup.admin.reload(GUILD)
    assert reloaded.shadowed == ("later",) and "the file's alias of the same name wins): later." in render_reloaded(
        reloaded, "en"
    )
    assert (await setup.admin.reload(OTHER_GUILD)).shadowed == ()
    assert setup.admin.registry.for_guild(GUILD).get("later").cost == 3

    setup.path.write_text("not [ toml")
    with pytest.raises(UserError) as caught:
        await setup.admin.reload(GUILD)
    assert caught.value.key == "wfadmin.reload_failed_file"
    assert len(setup.admin.registry.workflows) == 6


@pytest.mark.parametrize(
    ("change", "english", "chinese"),
    [
        (
            ("cost = 10\n", "cost = -1\n"),
            "alias 'z-image', key 'cost': must be a whole number >= 0.",
            "别名“z-image”，键“cost”：必须是大于或等于 0 的整数。",
        ),
        (
            ("cost = 10\n", "cost = 10\ncolour = 3\n"),
            "alias 'z-image', key 'colour': unknown key (expected one of: channels, cost, description, "
            "description_zh, enabled, inputs, instance_type, nsfw, roles, timeout, webapp_id, workflow_id).",
            "别名“z-image”，键“colour”：未知的键（可用的键：channels, cost, description, "
            "description_zh, enabled, inputs, instance_type, nsfw, roles, timeout, webapp_id, workflow_id）。",
        ),
        (
            ('default = ""\n', 'default = ""\nmin = 1\n'),
            "alias 'z-image', input 'negative', key 'min': only int and float inputs take min/max.",
            "别名“z-image”，输入“negative”，键“min”：只有 int 和 float 类型的输入才能设置 min/max。",
        ),
        (
            ('name = "negative"\n', 'name = "Negative"\n'),
            "alias 'z-image', input 'Negative', key 'name': must start with a lower-case letter and use only "
            "a-z, 0-9, _ and - (at most 32).",
            "别名“z-image”，输入“Negative”，键“name”：必须以小写字母开头，"
            "且只能使用 a-z、0-9、_ 和 -（最多 32 个字符）。",
        ),
        (
            ("[workflows.z-image]", "[workflows.Z-Image]"),
            "alias 'Z-Image': an alias must be 1-32 characters of a-z, 0-9, - and _.",
            "别名“Z-Image”：别名只能由 1 到 32 个 a-z、0-9、- 和 _ 字符组成。",
        ),
        (
            ("[workflows.z-image]", "[workflow.z-image]"),
            "unknown top-level key 'workflow' (only [workflows.<alias>] tables).",
            "未知的顶层键“workflow”（只能写 `[workflows.<alias>]` 表）。",
        ),
    ],
)
async def test_a_failed_reload_says_why_in_the_moderators_language(
    setup: Setup, change: tuple[str, str], english: str, chinese: str
) -> None:
    setup.path.write_text(setup.path.read_text().replace(*change, 1))
    with pytest.raises(UserError) as caught:
        await setup.admin.reload(GUILD)
    assert caught.value.render("en") == "workflows.toml was not reloaded and the current aliases stay: " + english
    assert caught.value.render("zh-CN") == "workflows.toml 未重新加载，现有别名保持不变：" + chinese
    assert setup.admin.registry.for_guild(GUILD).get("z-image").cost == 10  # nothing changed


async def test_a_reload_of_a_file_that_is_not_toml_keeps_the_parsers_detail(setup: Setup) -> None:
    setup.path.write_text("not [ toml")
    with pytest.raises(UserError) as caught:
        await setup.admin.reload(GUILD)
    assert caught.value.render("en") == (
        "workflows.toml was not reloaded and the current aliases stay: "
        "not valid TOML: Expected '=' after a key in a key/value pair (at line 1, column 5)."
    )
    assert caught.value.render("zh-CN") == (
        "workflows.toml 未重新加载，现有别名保持不变：不是有效的 TOML：Expected '=' after a key in a key/value pair "
        "(at line 1, column 5)。"
    )
    setup.path.unlink()
    with pytest.raises(UserError) as caught:
        await setup.admin.reload(GUILD)
    assert caught.value.render("zh-CN") == (
        "workflows.toml 未重新加载，现有别名保持不变："
        "找不到该文件（请设置 WORKFLOWS_PATH，或复制随附的 data/workflows.toml）。"
    )


async def test_show_lists_id_inputs_with_node_ids_cost_and_gates(setup: Setup) -> None:
    text = render_shown(setup.admin.show(GUILD, "style-transfer"), "en")
    assert "**style-transfer** · from workflows.toml · workflow 2014552598229032961" in text
    assert "Cost: 20 coins" in text and "Gates: none" in text
    assert "• `image` ← node 21 · `image` (required)" in text and "• `image2` ← node 24 · `image` (required)" in text
    # Gates from workflows.toml (governance's roles, channels and nsfw) show as mentions, pinging nobody.
    gated = setup.path.read_text().replace(
        'description = "Upscale and sharpen a picture 4x"\n',
        'description = "Upscale and sharpen a picture 4x"\nroles = ["123456789012345678"]\n'
        'channels = ["223456789012345678"]\nnsfw = true\n',
    )
    setup.path.write_text(gated)
    await setup.admin.reload(GUILD)
    gates = render_shown(setup.admin.show(GUILD, "upscale"), "en")
    assert (
        "Gates: roles <@&123456789012345678>; channels <#223456789012345678>; age-restricted channels only" in gates
    )
    zh = render_shown(setup.admin.show(GUILD, "style-transfer"), "zh-CN")
    assert "费用：20 金币" in zh and "中文说明：风格迁移" in zh
