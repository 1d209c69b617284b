"""The stored record of a job's inputs: seeds drawn and kept, params written back as text."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from bot.jobs.inputs import (
    SEED_SPAN,
    JobInputs,
    draw_seed,
    params_text,
    rerun_params,
    seed_input,
    seed_still_drawn,
    with_seed,
)
from bot.workflows import Workflow, WorkflowInput, parse_params


def workflow(*params: WorkflowInput) -> Workflow:
    prompt = WorkflowInput(name="prompt", kind="text", node_id="6", field="text")
    return Workflow(alias="demo", description="demo", cost=5, workflow_id="1", inputs=(prompt, *params))


SEED = WorkflowInput(name="seed", kind="int", node_id="3", field="seed", min=0, max=2**53 - 1)
STEPS = WorkflowInput(name="steps", kind="int", node_id="3", field="steps", default=25, min=1, max=60)
CFG = WorkflowInput(name="cfg", kind="float", node_id="3", field="cfg", min=0.0, max=30.0)
TILED = WorkflowInput(name="tiled", kind="bool", node_id="8", field="tiled")
NEGATIVE = WorkflowInput(name="negative", kind="text", node_id="7", field="text")
FULL = workflow(SEED, STEPS, CFG, TILED, NEGATIVE)


def test_a_seed_is_drawn_only_when_the_alias_takes_one_and_none_was_given() -> None:
    rng = random.Random(1)
    values, drawn = with_seed(FULL, {"steps": 30}, rng)
    assert drawn and values["steps"] == 30 and 0 <= values["seed"] < SEED_SPAN

    values, drawn = with_seed(FULL, {"seed": 7}, rng)
    assert (values, drawn) == ({"seed": 7}, False)

    assert with_seed(workflow(STEPS), {}, rng) == ({}, False)


def test_a_seed_default_is_no_reason_to_repeat_it_but_a_seed_of_another_kind_is_left_alone() -> None:
    saved = WorkflowInput(name="seed", kind="int", node_id="3", field="seed", default=42, min=0, max=2**32)
    text = WorkflowInput(name="seed", kind="text", node_id="3", field="seed")
    values, drawn = with_seed(workflow(saved), {}, random.Random(1))
    assert drawn and values["seed"] != 42
    assert seed_input(workflow(text)) is None
    assert with_seed(workflow(text), {}, random.Random(1)) == ({}, False)


@given(st.integers(0, 2**53 - 2), st.integers(0, 2**40), st.integers(0, 1000))
def test_drawn_seeds_stay_within_the_inputs_limits(low: int, span: int, salt: int) -> None:
    high = min(low + span, 2**53 - 1)
    item = WorkflowInput(name="seed", kind="int", node_id="3", field="seed", min=low, max=high)
    seed = draw_seed(item, random.Random(salt))
    assert low <= seed <= high and seed - low < SEED_SPAN


def test_two_draws_differ() -> None:
    rng = random.Random()
    assert len({draw_seed(SEED, rng) for _ in range(20)}) > 1


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(
    seed=st.integers(0, 2**53 - 1),
    steps=st.integers(1, 60),
    cfg=st.floats(0.0, 30.0, allow_nan=False),
    tiled=st.booleans(),
    negative=texts,
)
def test_params_text_reads_back_as_the_same_values(seed: int, steps: int, cfg: float, tiled: bool,
                                                    negative: str) -> None:
    values = {"negative": negative, "seed": seed, "steps": steps, "cfg": cfg, "tiled": tiled}
    text = params_text(FULL, values)
    assert parse_params(FULL, text) == values


def test_params_text_follows_the_alias_order_and_keeps_unknown_names_last() -> None:
    text = params_text(FULL, {"gone": 3, "negative": 'a "b", c', "seed": 42})
    assert text == 'seed=42 negative="a \\"b\\", c" gone=3'


def test_a_rerun_leaves_out_a_drawn_seed_and_keeps_a_typed_one() -> None:
    drawn = JobInputs(prompt="a cat", params={"seed": 99, "steps": 30}, seed_drawn=True)
    typed = JobInputs(prompt="a cat", params={"seed": 99, "steps": 30}, seed_drawn=False)
    assert rerun_params(FULL, drawn) == "steps=30"
    assert rerun_params(FULL, typed) == "seed=99 steps=30"


def test_an_edited_seed_counts_as_drawn_only_while_it_is_the_drawn_one() -> None:
    source = JobInputs(params={"seed": 99}, seed_drawn=True)
    assert seed_still_drawn(source, {"seed": 99})
    assert not seed_still_drawn(source, {"seed": 100})
    assert not seed_still_drawn(JobInputs(params={"seed": 99}), {"seed": 99})


def test_the_record_survives_json_and_reads_rows_written_before_it() -> None:
    record = JobInputs(
        prompt="a cat", params={"seed": 5}, files={"image": "cat.png"}, uploads={"image": "api/x.png"},
        nodes=({"node_id": "3", "field_name": "seed", "field_value": 5},), seed_drawn=True,
        target={"workflow_id": "2016195556967714818", "webapp_id": None, "instance_type": None},
    )
    assert JobInputs.from_json(record.to_json()) == record
    old = JobInputs.from_json({"prompt": "a cat", "params": {}, "uploads": {"image": "api/x.png"}, "nodes": []})
    assert old.files == {} and not old.seed_drawn and old.seed is None and old.target == {}
