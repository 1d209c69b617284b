"""workflows.toml: the shipped file, every refusal (alias, key and reason), params parsing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.errors import UserError
from bot.workflows import (
    MAX_SAFE_INT,
    OPTION_INPUTS,
    Workflow,
    WorkflowConfigError,
    WorkflowInput,
    load_workflows,
    parse_params,
    parse_workflows,
)

ROOT = Path(__file__).resolve().parents[1]

HEAD = """
[workflows.demo]
workflow_id = "2016195556967714818"
description = "A demo"
cost = 5
"""


def with_input(**keys: object) -> str:
    """HEAD plus one input; keys given override a valid text param."""
    fields: dict[str, object] = {"name": "negative", "kind": "text", "node_id": "7", "field": "text"}
    fields.update(keys)
    lines = [f"{k} = {toml(v)}" for k, v in fields.items() if v is not None]
    return HEAD + "\n[[workflows.demo.inputs]]\n" + "\n".join(lines) + "\n"


def toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return str(value)


# ------------------------------------------------------------------------------------- shipped file


def test_shipped_workflows_match_the_spec() -> None:
    registry = load_workflows(ROOT / "data" / "workflows.toml")
    aliases = [w.alias for w in registry.all()]
    assert aliases == ["animate", "style-transfer", "upscale", "voice-clone", "z-image"]

    z = registry.get("z-image")
    assert (z.workflow_id, z.cost, z.timeout) == ("2016195556967714818", 10, 1200)
    prompt = z.input("prompt")
    assert prompt is not None and (prompt.node_id, prompt.field, prompt.required, prompt.max_length) == (
        "6",
        "text",
        True,
        1500,
    )
    seed = z.input("seed")
    assert seed is not None and seed.default is None and seed.max == MAX_SAFE_INT
    assert [p.name for p in z.params] == ["negative", "seed", "steps", "width", "height"]

    style = registry.get("style-transfer")
    assert [(i.name, i.node_id, i.field, i.required) for i in style.inputs] == [
        ("image", "21", "image", True),
        ("image2", "24", "image", True),
    ]
    assert style.summary() == "image, image2 · 20 coins"

    animate = registry.get("animate")
    assert animate.timeout == 1800 and animate.cost == 50
    frames = animate.input("frames")
    assert frames is not None and (frames.node_id, frames.field, frames.default) == ("55", "length", 49)
    assert animate.summary() == "image · optional prompt · 50 coins"

    voice = registry.get("voice-clone")
    speed = voice.input("speed")
    assert speed is not None and speed.kind == "float"
    assert (speed.min, speed.max, speed.default) == (0.5, 2.0, 1.0)
    model = registry.get("upscale").input("model")
    assert model is not None and model.choices == ("4x-UltraSharp.pth", "RealESRGAN_x4plus.pth")


def test_registry_get_search_and_disabled() -> None:
    registry = parse_workflows(
        HEAD
        + """
[workflows.demo-two]
workflow_id = "1"
description = "Second, makes upscaled art"
cost = 0

[workflows.hidden]
webapp_id = "42"
description = "Not served"
cost = 1
enabled = false
"""
    )
    assert registry.get(" Demo ").alias == "demo"
    with pytest.raises(UserError) as info:
        registry.get("hidden")
    assert info.value.key == "workflow.unknown"
    assert "hidden" in info.value.render() and "demo, demo-two" in info.value.render()
    assert [w.alias for w in registry.all()] == ["demo", "demo-two"]
    assert len(registry) == 3 and registry.workflows["hidden"].webapp_id == "42"
    assert [w.alias for w in registry.search("demo")] == ["demo", "demo-two"]
    assert [w.alias for w in registry.search("upscaled")] == ["demo-two"]
    assert [w.alias for w in registry.search("-t")] == ["demo-two"]
    assert registry.search("", limit=1)[0].alias == "demo"
    assert registry.search("hidden") == []
    assert registry.get("demo-two").summary() == "free"


def test_summary_is_capped_at_100_characters() -> None:
    inputs = tuple(
        WorkflowInput(
            name=n,
            kind="image" if n.startswith("image") else "text",
            node_id=str(i),
            field="f",
            required=i % 2 == 0,
        )
        for i, n in enumerate(["prompt", "image", "image2", "image3"])
    )
    wide = Workflow(alias="x", description="d", cost=123456789, inputs=inputs * 1)
    assert len(wide.summary()) <= 100
    assert {"prompt", "image", "image2", "image3"} <= set(OPTION_INPUTS)


# ------------------------------------------------------------------------------------- refusals

SECOND = (
    '\n[[workflows.demo.inputs]]\nname = "{name}"\nkind = "text"\nnode_id = "{node}"\nfield = "{field}"\n'
)

# (toml text, alias, key (None: the error names no key), words of the reason)
BAD_FILES: list[tuple[str, str | None, str | None, str]] = [
    ("this is = not toml [", None, None, "not valid TOML"),
    ("", None, None, "no workflows defined"),
    ("[settings]\nx = 1\n", None, None, "unknown top-level key 'settings'"),
    (HEAD.replace("demo", "Demo_1"), "Demo_1", None, "1-32 characters of a-z, 0-9, - and _"),
    (HEAD.replace('workflow_id = "2016195556967714818"\n', ""), "demo", "workflow_id", "exactly one of"),
    (HEAD + 'webapp_id = "5"\n', "demo", "workflow_id", "exactly one of"),
    (HEAD.replace('"2016195556967714818"', '"abc"'), "demo", "workflow_id", "string of digits"),
    (HEAD.replace('description = "A demo"\n', ""), "demo", "description", "is required"),
    (HEAD.replace('"A demo"', '"' + "x" * 101 + '"'), "demo", "description", "at most 100 characters"),
    (HEAD.replace("cost = 5\n", ""), "demo", "cost", "is required"),
    (HEAD.replace("cost = 5", "cost = -1"), "demo", "cost", "whole number >= 0"),
    (HEAD.replace("cost = 5", "cost = 2.5"), "demo", "cost", "whole number >= 0"),
    (HEAD.replace("cost = 5", 'cost = "5"'), "demo", "cost", "whole number >= 0"),
    (HEAD + "timeout = 0\n", "demo", "timeout", "positive number of seconds"),
    (HEAD + "timeout = -5.5\n", "demo", "timeout", "positive number of seconds"),
    (HEAD + "timeout = nan\n", "demo", "timeout", "positive number of seconds"),
    (HEAD + "timeout = inf\n", "demo", "timeout", "positive number of seconds"),
    (HEAD + 'timeout = "600"\n', "demo", "timeout", "positive number of seconds"),
    (HEAD + "timeout = true\n", "demo", "timeout", "positive number of seconds"),
    (HEAD + 'instance_type = "huge"\n', "demo", "instance_type", '"default" or "plus"'),
    (HEAD + 'enabled = "yes"\n', "demo", "enabled", "true or false"),
    (HEAD + "costs = 3\n", "demo", "costs", "unknown key"),
    (with_input(kind="string"), "demo", "kind", "must be one of text, image"),
    (with_input(name="prompt", kind="int"), "demo", "kind", "must be text"),
    (with_input(name="image2", kind="text"), "demo", "kind", "must be image"),
    (with_input(name="mask", kind="image"), "demo", "kind", "image files can only be given as the inputs"),
    (with_input(name="Seed!"), "demo", "name", "lower-case letter"),
    (with_input(name=None), "demo", "name", "lower-case letter"),
    (with_input(node_id=None), "demo", "node_id", "node id as a string"),
    (with_input(field=""), "demo", "field", "input name on the node"),
    (with_input(required="yes"), "demo", "required", "true or false"),
    (with_input(min=1), "demo", "min", "only int and float"),
    (with_input(kind="int", min=1.5), "demo", "min", "whole number"),
    (with_input(kind="int", min=5, max=1), "demo", "max", "must not be below min"),
    (with_input(kind="int", max_length=5), "demo", "max_length", "only text inputs"),
    (with_input(max_length=0), "demo", "max_length", "whole number >= 1"),
    (with_input(choices=[]), "demo", "choices", "non-empty list"),
    (with_input(choices=["a", "a"]), "demo", "choices", "twice"),
    (with_input(kind="int", choices=[1, "2"]), "demo", "choices", "every choice must be a int"),
    (with_input(kind="bool", choices=[True]), "demo", "choices", "only text, int and float"),
    (with_input(kind="int", default="3"), "demo", "default", "must be a int value"),
    (with_input(kind="int", default=3, min=5), "demo", "default", "below min"),
    (with_input(kind="float", default=9.5, max=2), "demo", "default", "above max"),
    (with_input(default="c", choices=["a", "b"]), "demo", "default", "not one of the choices"),
    (with_input(default="long text", max_length=3), "demo", "default", "longer than max_length"),
    (with_input(default="x", required=True), "demo", "required", "cannot also be required"),
    (with_input(colour="red"), "demo", "colour", "unknown key"),
    (
        with_input() + SECOND.format(name="negative", node="8", field="t"),
        "demo",
        "name",
        "used twice",
    ),
    (
        with_input() + SECOND.format(name="other", node="7", field="text"),
        "demo",
        "field",
        "already set by input 'negative'",
    ),
    (HEAD + "inputs = 3\n", "demo", "inputs", "[[workflows.<alias>.inputs]]"),
]


@pytest.mark.parametrize(("text", "alias", "key", "reason"), BAD_FILES)
def test_bad_files_are_refused_with_alias_key_and_reason(
    text: str, alias: str | None, key: str | None, reason: str
) -> None:
    with pytest.raises(WorkflowConfigError) as info:
        parse_workflows(text, "data/workflows.toml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("data/workflows.toml: ")
    if alias:
        assert f"workflow '{alias}'" in message
    if key:
        assert f"key '{key}'" in message
    assert reason in message


@pytest.mark.parametrize("text", [text for text, *_ in BAD_FILES])
def test_every_refusal_is_a_catalog_text_in_english_and_chinese(text: str) -> None:
    with pytest.raises(WorkflowConfigError) as info:
        parse_workflows(text, "data/workflows.toml")
    reason = info.value.reason_msg
    assert reason.key.startswith("wfconfig.")
    assert str(info.value).endswith(": " + reason.render("en"))  # the English line is the catalog's sentence
    assert re.search(r"[\u4e00-\u9fff]", reason.render("zh-CN"))  # every placeholder filled, in Chinese


def test_input_errors_name_the_input() -> None:
    with pytest.raises(WorkflowConfigError, match=r"workflow 'demo', input 'steps', key 'min'"):
        parse_workflows(with_input(name="steps", kind="int", min="one"))
    with pytest.raises(WorkflowConfigError, match=r"workflow 'demo', input #1, key 'name'"):
        parse_workflows(with_input(name=7))


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(WorkflowConfigError, match="file not found"):
        load_workflows(tmp_path / "nope.toml")


def test_lenient_spellings_that_mean_the_same() -> None:
    registry = parse_workflows(
        HEAD.replace('"2016195556967714818"', "2016195556967714818")
        + '\n[[workflows.demo.inputs]]\nname = "cfg"\nkind = "float"\nnode_id = 3\nfield = "cfg"\n'
        + "default = 4\n"
    )
    workflow = registry.get("demo")
    assert workflow.workflow_id == "2016195556967714818"
    cfg = workflow.input("cfg")
    assert cfg is not None and cfg.node_id == "3" and cfg.default == 4.0 and isinstance(cfg.default, float)
    negative = parse_workflows(with_input()).get("demo").input("negative")
    assert negative is not None and negative.max_length == 2000 and negative.is_param


# ------------------------------------------------------------------------------------- params

PARAMS_TOML = (
    HEAD
    + """
[[workflows.demo.inputs]]
name = "prompt"
kind = "text"
node_id = "6"
field = "text"
required = true

[[workflows.demo.inputs]]
name = "seed"
kind = "int"
node_id = "3"
field = "seed"
min = 0
max = 9007199254740991

[[workflows.demo.inputs]]
name = "cfg"
kind = "float"
node_id = "3"
field = "cfg"
min = 1
max = 20

[[workflows.demo.inputs]]
name = "negative"
kind = "text"
node_id = "7"
field = "text"
max_length = 20

[[workflows.demo.inputs]]
name = "sampler"
kind = "text"
node_id = "3"
field = "sampler_name"
choices = ["euler", "dpmpp_2m"]

[[workflows.demo.inputs]]
name = "hires"
kind = "bool"
node_id = "9"
field = "enabled"

[[workflows.demo.inputs]]
name = "scale"
kind = "int"
node_id = "10"
field = "scale"
choices = [2, 4]
"""
)


@pytest.fixture
def demo() -> Workflow:
    return parse_workflows(PARAMS_TOML).get("demo")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, {}),
        ("", {}),
        ("   ", {}),
        ("seed=42 cfg=7.5", {"seed": 42, "cfg": 7.5}),
        ("seed=42, cfg=7", {"seed": 42, "cfg": 7.0}),
        ("seed = 42", None),  # spaces around = split the pair: refused below
        ('negative="blurry, ugly"', {"negative": "blurry, ugly"}),
        ("negative='a b' seed=0", {"negative": "a b", "seed": 0}),
        ("negative=", {"negative": ""}),
        ("SEED=9007199254740991", {"seed": 9007199254740991}),
        ("sampler=euler hires=yes scale=4", {"sampler": "euler", "hires": True, "scale": 4}),
        ("hires=off", {"hires": False}),
        ("negative=a=b", {"negative": "a=b"}),
        ("seed=1，cfg=2", {"seed": 1, "cfg": 2.0}),  # a full-width comma separates too
        (["seed=42", "negative=blurry, ugly"], {"seed": 42, "negative": "blurry, ugly"}),
        (['negative="kept quotes"'], {"negative": '"kept quotes"'}),
        ([], {}),
    ],
)
def test_parse_params_accepts(demo: Workflow, given: object, expected: dict | None) -> None:
    if expected is None:
        with pytest.raises(UserError):
            parse_params(demo, given)  # type: ignore[arg-type]
        return
    assert parse_params(demo, given) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "key", "words"),
    [
        ("seed", "workflow.params_syntax", "'seed'"),
        ("=5", "workflow.params_syntax", "'=5'"),
        ('negative="unclosed', "workflow.params_syntax", "unclosed"),
        ("steps=30", "workflow.param_unknown", "'steps' is not a parameter of 'demo'; it takes: seed, cfg"),
        ("prompt=hello", "workflow.param_is_option", "'prompt' has its own option"),
        ("seed=1 seed=2", "workflow.param_duplicate", "'seed'"),
        ("seed=abc", "workflow.param_not_int", "'seed' must be a whole number, not 'abc'"),
        ("seed=1.5", "workflow.param_not_int", "whole number"),
        ("seed=-1", "workflow.param_too_small", "at least 0"),
        ("seed=9007199254740992", "workflow.param_too_large", "at most 9007199254740991"),
        ("cfg=0.5", "workflow.param_too_small", "at least 1"),
        ("cfg=21", "workflow.param_too_large", "at most 20, not 21"),
        ("cfg=nan", "workflow.param_not_number", "must be a number"),
        ("cfg=inf", "workflow.param_not_number", "must be a number"),
        ("cfg=seven", "workflow.param_not_number", "'seven'"),
        ("hires=maybe", "workflow.param_not_bool", "true or false"),
        ("sampler=ddim", "workflow.param_not_choice", "one of: euler, dpmpp_2m"),
        ("scale=3", "workflow.param_not_choice", "one of: 2, 4"),
        ("negative=" + "x" * 21, "workflow.param_too_long", "21 characters long; at most 20"),
        (["seed=1", "bogus"], "workflow.params_syntax", "'bogus'"),
    ],
)
def test_parse_params_refuses(demo: Workflow, given: str | list[str], key: str, words: str) -> None:
    with pytest.raises(UserError) as info:
        parse_params(demo, given)
    assert info.value.key == key
    assert words in info.value.render()
    assert info.value.render("zh-CN")  # the Chinese text renders with the same placeholders


def test_params_on_a_workflow_without_any() -> None:
    bare = parse_workflows(HEAD).get("demo")
    with pytest.raises(UserError) as info:
        parse_params(bare, "seed=1")
    assert info.value.key == "workflow.param_none"


def test_long_user_text_is_cut_in_refusals(demo: Workflow) -> None:
    with pytest.raises(UserError) as info:
        parse_params(demo, "seed=" + "9" * 500 + "x")
    assert len(info.value.render()) < 150


@pytest.mark.parametrize("written, expected", [("30", 30), ("90.5", 90.5), ("0.25", 0.25), ("172800", 172800)])
def test_timeout_is_any_positive_number_of_seconds(written: str, expected: float) -> None:
    workflow = parse_workflows(HEAD + f"timeout = {written}\n").get("demo")
    assert workflow.timeout == expected and type(workflow.timeout) is type(expected)
