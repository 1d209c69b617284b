"""The one registry: the file merged with each guild's own aliases and overrides; bilingual aliases;
the input mapping that `inspect` prints and `/workflow add` stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import UserError
from bot.inspect_workflow import inspect_nodes, render_toml, suggest_inputs
from bot.workflows import (
    FILE,
    SERVER,
    Override,
    Workflow,
    WorkflowConfigError,
    WorkflowInput,
    WorkflowRegistry,
    load_workflows,
    parse_workflow_table,
    parse_workflows,
    workflow_table,
)

ROOT = Path(__file__).resolve().parents[1]
SIMDATA = ROOT / "bot" / "runninghub" / "simdata"
TEXT_TO_IMAGE = "2016195556967714818"
GUILD, OTHER_GUILD = 111, 222


def server_alias(alias: str, cost: int = 7, **changes: object) -> Workflow:
    table = {"workflow_id": TEXT_TO_IMAGE, "description": f"{alias} here", "cost": cost, **changes}
    return parse_workflow_table(alias, table, source="test", origin=SERVER)


def shipped() -> WorkflowRegistry:
    return load_workflows(ROOT / "data" / "workflows.toml")


# ------------------------------------------------------------------------------------------ mapping


def test_the_mapping_of_a_text_to_image_workflow_follows_design_section_10() -> None:
    graph = json.loads((SIMDATA / f"{TEXT_TO_IMAGE}.json").read_text())
    inputs = {i.name: i for i in suggest_inputs(inspect_nodes(graph, app=False))}
    prompt = inputs["prompt"]
    assert (prompt.node_id, prompt.field, prompt.kind, prompt.required) == ("6", "text", "text", True)
    assert inputs["negative"].node_id == "7" and inputs["negative"].default is None
    seed = inputs["seed"]
    assert (seed.node_id, seed.default, seed.min, seed.max) == ("3", 431205898214507, 0, 9007199254740991)
    assert (inputs["steps"].default, inputs["steps"].min, inputs["steps"].max) == (25, 1, 150)
    assert (inputs["cfg"].kind, inputs["cfg"].default, inputs["cfg"].max) == ("float", 4.0, 30.0)
    assert (inputs["denoise"].default, inputs["denoise"].min, inputs["denoise"].max) == (1.0, 0.0, 1.0)
    assert (inputs["width"].node_id, inputs["width"].default) == ("5", 1024)
    assert (inputs["height"].node_id, inputs["height"].default) == ("5", 1024)
    assert (inputs["batch_size"].node_id, inputs["batch_size"].default, inputs["batch_size"].min) == ("5", 1, 1)
    assert not any(i.name == "image" for i in inputs.values())


def test_media_loaders_fill_image_image2_image3_audio_video_in_ascending_node_id() -> None:
    graph = {
        "30": {"class_type": "LoadImage", "inputs": {"image": "c.png"}},
        "4": {"class_type": "LoadImage", "inputs": {"image": "a.png"}},
        "12": {"class_type": "LoadImage", "inputs": {"image": "b.png"}},
        "40": {"class_type": "LoadImage", "inputs": {"image": "d.png"}},
        "9": {"class_type": "LoadAudio", "inputs": {"audio": "x.wav"}},
        "8": {"class_type": "LoadVideo", "inputs": {"video": "x.mp4"}},
    }
    inputs = suggest_inputs(inspect_nodes(graph, app=False))
    assert [(i.name, i.node_id) for i in inputs] == [
        ("image", "4"),
        ("video", "8"),
        ("audio", "9"),
        ("image2", "12"),
        ("image3", "30"),
    ]
    assert all(i.required for i in inputs)
    assert "40" not in {i.node_id for i in inputs}  # a fourth image has no option to come from


def test_inspect_prints_exactly_the_inputs_add_stores() -> None:
    """One mapping: the block `inspect` prints parses back to the inputs `/workflow add` stores."""
    for name in ("2014552598229032961", "1990000000000000003", TEXT_TO_IMAGE):
        candidates = inspect_nodes(json.loads((SIMDATA / f"{name}.json").read_text()), app=False)
        block = render_toml("x", candidates, workflow_id=name, description="x")
        assert parse_workflows(block).get("x").inputs == suggest_inputs(candidates), name
    app = json.loads((SIMDATA / "apps" / "1937000000000000001.json").read_text())["nodeInfoList"]
    candidates = inspect_nodes(app, app=True)
    block = render_toml("x", candidates, webapp_id="1937000000000000001", description="x")
    assert parse_workflows(block).get("x").inputs == suggest_inputs(candidates)


# -------------------------------------------------------------------------------------- bilingual


def test_description_zh_is_read_and_shown_to_chinese_members() -> None:
    upscale = shipped().get("upscale")
    assert upscale.description_zh == "图片 4 倍放大并锐化"
    assert upscale.describe("zh-CN") == "图片 4 倍放大并锐化"
    assert upscale.describe("en-US") == upscale.description
    assert server_alias("plain").describe("zh-CN") == "plain here"  # no Chinese text: the English one


def test_autocomplete_search_covers_the_alias_and_both_descriptions() -> None:
    view = shipped().for_guild(GUILD)
    assert [w.alias for w in view.search("放大")] == ["upscale"]
    assert [w.alias for w in view.search("sharpen")] == ["upscale"]
    assert [w.alias for w in view.search("ups")] == ["upscale"]
    assert "voice-clone" in [w.alias for w in view.search("声音")]


@pytest.mark.parametrize(
    ("value", "reason"),
    [(5, "must be a non-empty text"), ("  ", "must be a non-empty text"), ("长" * 101, "at most 100")],
)
def test_a_bad_description_zh_names_alias_key_and_reason(value: object, reason: str) -> None:
    with pytest.raises(WorkflowConfigError) as caught:
        parse_workflow_table(
            "demo", {"workflow_id": "1", "description": "d", "cost": 1, "description_zh": value}, source="f"
        )
    assert (caught.value.alias, caught.value.key) == ("demo", "description_zh")
    assert reason in str(caught.value) and "workflow 'demo'" in str(caught.value)


def test_config_errors_carry_alias_key_and_reason() -> None:
    text = '[workflows.demo]\nworkflow_id = "1"\ndescription = "d"\ncost = -1\n'
    with pytest.raises(WorkflowConfigError) as caught:
        parse_workflows(text)
    assert (caught.value.alias, caught.value.key, caught.value.reason) == (
        "demo",
        "cost",
        "must be a whole number >= 0",
    )
    bad_input = (
        text.replace("-1", "1")
        + '[[workflows.demo.inputs]]\nname = "seed"\nkind = "dice"\nnode_id = "3"\nfield = "seed"\n'
    )
    with pytest.raises(WorkflowConfigError) as caught:
        parse_workflows(bad_input)
    assert caught.value.alias == "demo" and caught.value.key == "input 'seed' kind"


def test_aliases_take_underscores_and_digits_but_nothing_else() -> None:
    assert server_alias("my_flow-2").alias == "my_flow-2"
    for bad in ("", "Upper", "has space", "x" * 33, "点"):
        with pytest.raises(WorkflowConfigError):
            server_alias(bad)


def test_a_server_alias_round_trips_through_its_table() -> None:
    workflow = shipped().get("z-image")
    again = parse_workflow_table(workflow.alias, json.loads(json.dumps(workflow_table(workflow))), source="db")
    assert again == workflow


# ------------------------------------------------------------------------------------ the registry


def test_each_guild_sees_the_file_and_only_its_own_aliases() -> None:
    registry = shipped()
    registry.put_server_alias(GUILD, server_alias("cats"))
    mine, theirs = registry.for_guild(GUILD), registry.for_guild(OTHER_GUILD)
    assert mine.get("cats").origin == SERVER and mine.get("z-image").origin == FILE
    assert "cats" not in theirs
    with pytest.raises(UserError) as caught:
        theirs.get("cats")
    assert caught.value.key == "workflow.unknown"
    assert "cats" not in [w.alias for w in registry.all()]  # the command line: the file alone
    registry.drop_server_alias(GUILD, "cats")
    assert registry.for_guild(GUILD).find("cats") is None


def test_an_override_changes_a_file_alias_in_one_guild_only() -> None:
    registry = shipped()
    registry.put_override(GUILD, "z-image", Override(cost=3, timeout=600))
    assert (registry.for_guild(GUILD).get("z-image").cost, registry.for_guild(GUILD).get("z-image").timeout) == (
        3,
        600,
    )
    assert registry.for_guild(OTHER_GUILD).get("z-image").cost == 10
    registry.put_override(GUILD, "upscale", Override(enabled=False))
    assert registry.for_guild(GUILD).find("upscale") is not None  # kept for /workflow show
    assert "upscale" not in [w.alias for w in registry.for_guild(GUILD).all()]
    assert [w.alias for w in registry.for_guild(GUILD).search("放大")] == []
    registry.put_override(GUILD, "upscale", Override())
    assert registry.for_guild(GUILD).get("upscale").enabled


def test_a_file_alias_wins_over_a_guild_alias_of_the_same_name() -> None:
    registry = shipped()
    registry.put_server_alias(GUILD, server_alias("later", cost=1))
    file_now = dict(registry.workflows)
    file_now["later"] = Workflow(alias="later", description="from the file", cost=99, workflow_id="1")
    registry.replace_file(file_now)
    assert registry.for_guild(GUILD).get("later").cost == 99


def test_a_disabled_guild_alias_is_not_served() -> None:
    registry = shipped()
    registry.put_server_alias(GUILD, server_alias("off", enabled=False))
    assert registry.for_guild(GUILD).find("off") is not None
    with pytest.raises(UserError):
        registry.for_guild(GUILD).get("off")


def test_workflow_input_defaults_come_through_unchanged() -> None:
    item = WorkflowInput(name="steps", kind="int", node_id="3", field="steps", default=25, min=1, max=150)
    workflow = Workflow(alias="s", description="d", cost=1, workflow_id="1", inputs=(item,))
    assert parse_workflow_table("s", workflow_table(workflow), source="db").inputs == (item,)
