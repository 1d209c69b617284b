"""Progress end to end: the status message as a member watches it, through the loopback Discord.

The bot runs in this process against the fake Discord and the RunningHub simulator, whose
`netWssUrl` streams ComfyUI's progress messages (and can refuse, close early or stay silent).
Every test reads what reached Discord (each version of the status message), what the simulator
received (creates, cancels) and the ledger rows.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.texts import t
from tests.e2e.test_jobs import ALLOWANCE, World, world  # noqa: F401 (fixture)
from tests.fakediscord.model import FakeMessage
from tests.fakediscord.plugin import fake_discord, fake_discord_server  # noqa: F401 (fixtures)
from tests.waiting import eventually

PERCENT = re.compile(r"`[█░]+` (\d+)%")
CANCEL = "/task/openapi/cancel"


@pytest.fixture
def sim_options() -> dict[str, object]:
    return {"queue_seconds": 0.05, "run_seconds": 6.0, "concurrency": 1}


def versions(message: FakeMessage) -> list[str]:
    return [v.content for v in message.versions]


def percents(message: FakeMessage) -> list[int]:
    return [int(m[1]) for v in versions(message) if (m := PERCENT.search(v))]


def custom_ids(components: list[dict[str, Any]]) -> list[str]:
    found = []
    for row in components:
        found += [item["custom_id"] for item in row.get("components", []) if "custom_id" in item]
    return found


async def _is(value: bool) -> bool:
    return value


async def test_a_running_task_shows_a_growing_percentage_before_its_result(world: World) -> None:  # noqa: F811 (the fixture)
    _, job_id = await world.generate(world.alice, prompt="a lighthouse")
    result = await world.wait_result(job_id, timeout=30)
    await world.wait_state(job_id, "delivered")
    status = await world.status_message(job_id)
    await eventually(lambda: _is(versions(status)[-1].startswith("✅")))
    seen = percents(status)
    assert len(set(seen)) >= 2 and seen == sorted(seen), versions(status)
    assert 0 < seen[-1] < 100
    texts = versions(status)
    bars = [v.time for v in status.versions if PERCENT.search(v.content)]
    assert max(bars) < result.versions[0].time  # the percentages came while it ran, before the result
    assert any(re.search(r"KSampler \d+/\d+", v) for v in texts)  # the node at work, by its class
    assert len(world.results(job_id)) == 1 and result.files
    # The cancel button was on the status message while it ran, and is gone now.
    assert custom_ids(status.versions[0].components) == [f"rh:cancel:{job_id}"]
    assert status.custom_ids == []


@pytest.mark.parametrize("fault", ["refuse", "close_early", "silent"])
async def test_without_a_working_socket_the_job_completes_delivered_once_charged_once(
    world: World, fault: str  # noqa: F811 (the fixture)
) -> None:
    world.sim.progress_socket_fault = fault  # type: ignore[attr-defined]
    _, job_id = await world.generate(world.alice, prompt="no progress")
    await world.wait_result(job_id, timeout=30)
    await world.wait_state(job_id, "delivered")
    assert len(world.results(job_id)) == 1
    assert await world.ledger(world.alice) == [
        ("refill", ALLOWANCE, 0, None),
        ("hold", -10, 10, job_id),
        ("charge", 0, -10, job_id),
    ]
    status = await world.status_message(job_id)
    running = [v for v in versions(status) if "running, started <t:" in v]
    assert running, versions(status)  # the elapsed time instead of a bar
    await world.books_balance()


async def test_jobs_queued_behind_a_long_one_see_their_positions_go_down(world: World) -> None:  # noqa: F811 (the fixture)
    world.sim.run_seconds = 5.0  # long enough for every position to reach its message (1 edit / 1.1 s)
    _, first = await world.generate(world.alice, prompt="long")
    await world.wait_state(first, "running", "queued")
    behind = [(await world.generate(member, prompt="next"))[1] for member in (world.bob, world.carol, world.mod)]
    await world.wait_state(behind[-1], "delivered", timeout=60)
    for place, job_id in enumerate(behind, start=1):
        status = await world.status_message(job_id)
        positions = [int(m[1]) for v in versions(status) if (m := re.search(r"position (\d+)", v))]
        assert positions[0] == place, versions(status)
        assert positions == sorted(positions, reverse=True)
        if place > 1:
            assert positions[-1] == 1 and len(set(positions)) == place, versions(status)


async def test_the_cancel_button_is_for_the_owner_or_a_moderator_and_refunds(world: World) -> None:  # noqa: F811 (the fixture)
    _, job_id = await world.generate(world.alice, prompt="to cancel")
    await world.wait_state(job_id, "running")
    status = await world.status_message(job_id)
    assert status.custom_ids == [f"rh:cancel:{job_id}"]

    refused = await world.fake.click(world.bob, status, f"rh:cancel:{job_id}")
    assert await refused.reply() == t("job.error.not_yours", "en", job=f"#{job_id}")
    assert refused.ephemeral is True
    assert await world.state(job_id) == "running" and world.sim.requests_to(CANCEL) == []

    click = await world.fake.click(world.alice, status, f"rh:cancel:{job_id}")
    answer = await click.reply()
    assert answer.startswith(t("job.ok.cancelled", "en", job=f"#{job_id}", coins=10)[:-1])
    assert click.ephemeral is True
    await world.wait_state(job_id, "cancelled")
    (cancel,) = world.sim.requests_to(CANCEL)
    assert cancel.json["taskId"] == (await world.job(job_id))["task_id"]
    assert await world.ledger(world.alice) == [
        ("refill", ALLOWANCE, 0, None),
        ("hold", -10, 10, job_id),
        ("release", 10, -10, job_id),
    ]
    await eventually(lambda: _is(status.custom_ids == [] and status.content.startswith("🚫")))
    await world.books_balance()


async def test_a_moderator_may_cancel_anyones_job_with_the_button(world: World) -> None:  # noqa: F811 (the fixture)
    _, job_id = await world.generate(world.bob, prompt="moderated")
    status = await world.status_message(job_id)
    click = await world.fake.click(world.mod, status, f"rh:cancel:{job_id}")
    await click.reply()
    await world.wait_state(job_id, "cancelled")
    assert await world.balance(world.bob) == (ALLOWANCE, 0)
