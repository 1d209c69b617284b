"""Results to build on, end to end through the loopback Discord: re-run, edit, details, Generate from image.

The bot runs in this process against the fake Discord and the RunningHub simulator. The tests
check what the member sees (labels, modals, the details card), what RunningHub received (the
simulator's recorded creates and uploads) and the ledger rows; the restart test opens a modal,
stops the bot, starts a new one on the same database and uses every button and the modal.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.runninghub.simulator import Simulator
from bot.texts import t
from tests.e2e.test_jobs import ALLOWANCE, MANAGE_GUILD, World, sim_options, world  # noqa: F401
from tests.fakediscord.model import FakeChannel, FakeInteraction, FakeMember, FakeMessage, FakeRole
from tests.fakediscord.plugin import fake_discord, fake_discord_server  # noqa: F401 (fixtures)
from tests.fakediscord.server import FakeDiscord
from tests.harness import SHIPPED_WORKFLOWS, running_bot
from tests.samples import png_bytes
from tests.waiting import eventually

MENU = "Generate from image"
RED, BLUE = png_bytes((255, 0, 0)), png_bytes((0, 0, 255))


def labels(message: FakeMessage) -> dict[str, str]:
    """custom_id -> label of the message's buttons."""
    found: dict[str, str] = {}
    for row in message.components:
        for item in row.get("components") or []:
            if item.get("custom_id"):
                found[item["custom_id"]] = item.get("label", "")
    return found


def nodes(create: Any) -> dict[tuple[str, str], object]:
    return {(n["nodeId"], n["fieldName"]): n["fieldValue"] for n in create.json["nodeInfoList"]}


def job_number(text: str) -> int:
    found = re.match(r"Job #(\d+) ", text)
    assert found, text
    return int(found[1])


async def ledger_kinds(w: World, job_id: int) -> list[str]:
    rows = await w.bot.services.db.fetchall("SELECT kind FROM ledger WHERE job_id = ? ORDER BY id", (job_id,))
    return [str(r[0]) for r in rows]


async def delivered(w: World, member: FakeMember, prompt: str = "a cat", **options: object) -> tuple[int, FakeMessage]:
    _, job_id = await w.generate(member, prompt=prompt, **options)
    result = await w.wait_result(job_id)
    await w.wait_state(job_id, "delivered")
    return job_id, result


async def open_edit(w: World, member: FakeMember, result: FakeMessage, job_id: int) -> FakeInteraction:
    click = await w.fake.click(member, result, f"rh:edit:{job_id}")
    assert await click.acked() == 9, await click.reply()
    assert click.ack_latency is not None and click.ack_latency < 3.0
    return click


# ---- re-run and details ---------------------------------------------------------------------------


async def test_the_rerun_label_shows_the_cost_in_the_jobs_language(world: World) -> None:  # noqa: F811
    job_id, result = await delivered(world, world.alice)
    assert labels(result)[f"rh:rerun:{job_id}"] == "Re-run · 10 coins"
    assert list(labels(result)) == [f"rh:rerun:{job_id}", f"rh:edit:{job_id}", f"rh:details:{job_id}",
                                    f"rh:delete:{job_id}"]

    li = world.guild.add_member("li", locale="zh-CN")
    ix = await world.fake.invoke(li, world.channel, "generate",
                                 {"workflow": "style-transfer", "image": world.attach(RED, "a.png"),
                                  "image2": world.attach(BLUE, "b.png")}, locale="zh-CN")
    chinese = job_number_zh(await ix.reply())
    result = await world.wait_result(chinese)
    assert labels(result)[f"rh:rerun:{chinese}"] == "重新生成 · 20 金币"
    assert f"rh:edit:{chinese}" not in labels(result)  # style-transfer takes no prompt or params: nothing to edit


def job_number_zh(text: str) -> int:
    found = re.match(r"任务 #(\d+)", text)
    assert found, text
    return int(found[1])


async def test_details_show_the_task_the_simulator_created_and_the_seed_it_received(world: World) -> None:  # noqa: F811
    job_id, result = await delivered(world, world.alice, prompt="a lighthouse", params="steps=30")
    (create,) = world.sim.creates()
    seed = nodes(create)[("3", "seed")]
    (task_id,) = world.sim.tasks
    assert f"Seed `{seed}`" in result.content  # the result shows the seed too

    click = await world.fake.click(world.bob, result, f"rh:details:{job_id}")
    card = await click.reply()
    assert click.ephemeral is True and click.ack_latency is not None and click.ack_latency < 3.0
    row = await world.job(job_id)
    lines = card.splitlines()
    assert lines[0] == f"z-image #{job_id}"
    assert f"RunningHub task: `{task_id}`" in lines
    assert f"Seed: {seed} (drawn at random)" in lines
    assert "Params: `negative=\"\" steps=30 width=1024 height=1024`" in lines
    assert "Prompt: a lighthouse" in lines and "Coins charged: 10 coins" in lines
    assert f"RunningHub coins used: {row['consume_coins']}" in lines and row["consume_coins"] is not None
    assert any(line.startswith("Time taken: ") and line.endswith(" s") for line in lines)
    assert world.fake.messages(world.channel)[-1].id == result.id  # nothing public
    assert await ledger_kinds(world, job_id) == ["hold", "charge"]  # looking costs nothing


async def test_rerun_draws_a_new_seed_and_keeps_a_typed_one(world: World) -> None:  # noqa: F811
    drawn, result = await delivered(world, world.alice)
    click = await world.fake.click(world.bob, result, f"rh:rerun:{drawn}")
    again = job_number(await click.reply())
    await world.wait_state(again, "delivered")
    typed, result = await delivered(world, world.alice, params="seed=4242")
    click = await world.fake.click(world.bob, result, f"rh:rerun:{typed}")
    kept = job_number(await click.reply())
    await world.wait_state(kept, "delivered")
    seeds = [nodes(c)[("3", "seed")] for c in world.sim.creates()]
    assert seeds[0] != seeds[1] and seeds[2:] == [4242, 4242]
    assert await world.balance(world.bob) == (ALLOWANCE - 20, 0)  # the clicker paid, once per re-run


# ---- edit -----------------------------------------------------------------------------------------


async def test_edit_carries_the_prompt_and_a_dog_runs_with_the_same_seed_charged_once(world: World) -> None:  # noqa: F811
    job_id, result = await delivered(world, world.alice, params="steps=30")
    seed = nodes(world.sim.creates()[0])[("3", "seed")]
    click = await open_edit(world, world.alice, result, job_id)
    modal = click.shown_modal
    assert modal.prefilled == {"prompt": "a cat", "params": f"seed={seed} steps=30"}
    assert modal.title == f"Edit #{job_id} · z-image"

    submit = await world.fake.submit_modal(click, {"prompt": "a dog"})
    edited = job_number(await submit.reply())
    assert submit.ephemeral is True
    await world.wait_result(edited)
    await world.wait_state(edited, "delivered")
    created = nodes(world.sim.creates()[-1])
    assert created[("6", "text")] == "a dog" and created[("3", "seed")] == seed and created[("3", "steps")] == 30
    assert await ledger_kinds(world, edited) == ["hold", "charge"]
    assert await world.balance(world.alice) == (ALLOWANCE - 20, 0)
    assert (await world.job(edited))["source_job_id"] == job_id
    await world.books_balance()


async def test_an_edit_with_bad_params_is_one_sentence_and_holds_nothing(world: World) -> None:  # noqa: F811
    job_id, result = await delivered(world, world.alice)
    jobs = await world.count("jobs")
    for params, expected in (
        ("steps=999", t("workflow.param_too_large", "en", name="steps", maximum="60", value="999")),
        ("colour=red", None),
    ):
        click = await open_edit(world, world.alice, result, job_id)
        submit = await world.fake.submit_modal(click, {"params": params})
        text = await submit.reply()
        assert submit.ephemeral is True and "\n" not in text
        if expected is not None:
            assert text == expected
    assert await world.count("jobs") == jobs and len(world.sim.creates()) == 1
    assert await world.balance(world.alice) == (ALLOWANCE - 10, 0)


# ---- Generate from image --------------------------------------------------------------------------


async def menu_on(w: World, member: FakeMember, message: FakeMessage) -> FakeInteraction:
    ix = await w.fake.invoke_message_command(member, message, MENU)
    await ix.reply()
    assert ix.ephemeral is True and ix.ack_latency is not None and ix.ack_latency < 3.0
    return ix


async def test_the_menu_offers_image_aliases_and_puts_both_uploads_on_their_nodes(world: World) -> None:  # noqa: F811
    posted = world.fake.post_message(world.bob, world.channel, "restyle me",
                                     files=[("red photo.png", RED), ("blue style.png", BLUE)])
    ix = await menu_on(world, world.alice, posted)
    assert ix.original is not None
    select = ix.original.select(f"rh:pick:{posted.id}")
    assert select.values == ["animate", "style-transfer", "upscale"]  # not z-image or voice-clone

    choice = await world.fake.choose(world.alice, ix.original, f"rh:pick:{posted.id}", "style-transfer")
    job_id = job_number(await choice.reply())  # nothing to ask: it starts at once
    await world.wait_result(job_id)
    await world.wait_state(job_id, "delivered")
    names = {data: name for name, data in world.sim.uploads.items()}
    created = nodes(world.sim.creates()[0])
    assert created == {("21", "image"): names[RED], ("24", "image"): names[BLUE]}
    assert await ledger_kinds(world, job_id) == ["hold", "charge"]
    assert await world.balance(world.alice) == (ALLOWANCE - 20, 0)

    details = await world.fake.click(world.alice, await world.wait_result(job_id), f"rh:details:{job_id}")
    card = await details.reply()
    assert "image: red photo.png" in card and "image2: blue style.png" in card


async def test_the_menu_asks_for_the_prompt_and_params_of_an_alias_that_takes_them(world: World) -> None:  # noqa: F811
    posted = world.fake.post_message(world.bob, world.channel, "", files=[("start.png", RED), ("extra.png", BLUE)])
    ix = await menu_on(world, world.alice, posted)
    assert ix.original is not None
    choice = await world.fake.choose(world.alice, ix.original, f"rh:pick:{posted.id}", "animate")
    assert await choice.acked() == 9
    modal = choice.shown_modal
    assert [f.custom_id for f in modal.fields] == ["prompt", "params"]
    submit = await world.fake.submit_modal(choice, {"prompt": "slow zoom", "params": "frames=33"})
    job_id = job_number(await submit.reply())
    await world.wait_state(job_id, "delivered", timeout=20)
    (create,) = world.sim.creates()
    (upload,) = world.sim.uploads.items()
    assert upload[1] == RED  # one image input: the first image; the second is not uploaded
    assert nodes(create) == {("52", "image"): upload[0], ("6", "text"): "slow zoom", ("55", "length"): 33}


async def test_the_menu_on_a_message_without_images_is_one_sentence(world: World) -> None:  # noqa: F811
    posted = world.fake.post_message(world.bob, world.channel, "just words", files=[("notes.txt", b"hello")])
    ix = await world.fake.invoke_message_command(world.alice, posted, MENU)
    assert await ix.reply() == t("results.menu.no_images", "en")
    assert ix.ephemeral is True and await world.count("jobs") == 0


async def test_the_menu_checks_the_real_type_of_each_image(world: World) -> None:  # noqa: F811
    posted = world.fake.post_message(world.bob, world.channel, "", files=[("fake.png", b"not a picture at all")])
    ix = await menu_on(world, world.alice, posted)
    assert ix.original is not None
    choice = await world.fake.choose(world.alice, ix.original, f"rh:pick:{posted.id}", "upscale")
    assert await choice.acked() == 9  # upscale takes a param: the modal first
    submit = await world.fake.submit_modal(choice, {})
    text = await submit.reply()
    assert text == t("workflow.file_unknown_image", "en", filename="fake.png", option="image")
    assert await world.count("jobs") == 0 and world.sim.uploads == {}
    assert await world.balance(world.alice) in (None, (ALLOWANCE, 0))


async def test_the_menu_refuses_an_image_over_runninghubs_limit_before_downloading_it(world: World) -> None:  # noqa: F811
    posted = world.fake.post_message(world.bob, world.channel, "", files=[("huge.png", RED)])
    posted.attachments[0].size = 31 * 1024 * 1024  # what Discord announces for the file
    ix = await menu_on(world, world.alice, posted)
    assert ix.original is not None
    choice = await world.fake.choose(world.alice, ix.original, f"rh:pick:{posted.id}", "upscale")
    assert await choice.acked() == 9
    text = await (await world.fake.submit_modal(choice, {})).reply()
    assert text == t("workflow.file_too_large", "en", filename="huge.png", size_mb="31.0", limit_mb=30)
    assert posted.attachments[0].downloads == 0 and await world.count("jobs") == 0


async def test_the_menu_is_named_in_chinese(world: World) -> None:  # noqa: F811
    menu = world.fake.command(MENU, world.guild, kind=3)
    assert menu["name_localizations"] == {"zh-CN": "用图片生成", "zh-TW": "用圖片生成"}


# ---- after a restart ------------------------------------------------------------------------------


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    async with Simulator(queue_seconds=0.05, run_seconds=0.1) as sim:
        yield sim


async def test_every_button_and_an_open_modal_work_after_a_restart(
    fake_discord: FakeDiscord,  # noqa: F811
    simulator: Simulator,
    tmp_path: Path,
) -> None:
    guild = fake_discord.add_guild("Art Club", locale="en-US")
    channel = guild.add_channel("general")
    alice, bob = guild.add_member("alice"), guild.add_member("bob")
    env = {"DISCORD_GUILD_ID": str(guild.id), "DEFAULT_ALLOWANCE": str(ALLOWANCE)}

    async def wait_delivered(bot: Any, job_id: int) -> None:
        async def done() -> bool:
            row = await bot.services.db.fetchone("SELECT state FROM jobs WHERE id = ?", (job_id,))
            return row is not None and row[0] == "delivered"

        await eventually(done)

    async with running_bot(fake_discord, tmp_path=tmp_path, simulator=simulator, env=env) as bot:
        ix = await fake_discord.invoke(alice, channel, "generate", {"workflow": "z-image", "prompt": "a cat"})
        job_id = job_number(await ix.reply())
        await wait_delivered(bot, job_id)
        result = await fake_discord.wait_for_message(channel, lambda m: f"rh:rerun:{job_id}" in m.custom_ids)
        opened = await fake_discord.click(alice, result, f"rh:edit:{job_id}")
        assert await opened.acked() == 9
        posted = fake_discord.post_message(bob, channel, "", files=[("a.png", RED), ("b.png", BLUE)])
        menu = await fake_discord.invoke_message_command(alice, posted, MENU)
        await menu.reply()
    seed = nodes(simulator.creates()[0])[("3", "seed")]

    async with running_bot(fake_discord, tmp_path=tmp_path, simulator=simulator, env=env) as bot:
        details = await fake_discord.click(bob, result, f"rh:details:{job_id}")
        card = await details.reply()
        assert f"RunningHub task: `{next(iter(simulator.tasks))}`" in card and f"Seed: {seed} " in card

        # The edit modal opened before the restart is submitted after it.
        submit = await fake_discord.submit_modal(opened, {"prompt": "a dog"})
        edited = job_number(await submit.reply())
        await wait_delivered(bot, edited)
        assert nodes(simulator.creates()[-1])[("6", "text")] == "a dog"
        assert nodes(simulator.creates()[-1])[("3", "seed")] == seed

        rerun = await fake_discord.click(bob, result, f"rh:rerun:{job_id}")
        again = job_number(await rerun.reply())
        await wait_delivered(bot, again)

        assert menu.original is not None
        choice = await fake_discord.choose(alice, menu.original, f"rh:pick:{posted.id}", "style-transfer")
        restyled = job_number(await choice.reply())
        await wait_delivered(bot, restyled)
        names = {data: name for name, data in simulator.uploads.items()}
        assert nodes(simulator.creates()[-1]) == {("21", "image"): names[RED], ("24", "image"): names[BLUE]}

        for number in (edited, again, restyled):
            rows = await bot.services.db.fetchall("SELECT kind FROM ledger WHERE job_id = ? ORDER BY id", (number,))
            assert [r[0] for r in rows] == ["hold", "charge"]

        delete = await fake_discord.click(alice, result, f"rh:delete:{job_id}")
        await delete.acked()
        await eventually(lambda: _deleted(fake_discord, result))


async def _deleted(fake: FakeDiscord, message: FakeMessage) -> bool:
    return fake.message(message.id).deleted


# ---- the gate at every entry point ----------------------------------------------------------------

PATRON_ALIASES = """
[workflows.patron-cat]
workflow_id = "2016195556967714818"
description = "Z-Image for patrons"
cost = 10
roles = ["{patron}"]

[[workflows.patron-cat.inputs]]
name = "prompt"
kind = "text"
node_id = "6"
field = "text"
required = true

[[workflows.patron-cat.inputs]]
name = "seed"
kind = "int"
node_id = "3"
field = "seed"
min = 0

[workflows.patron-animate]
workflow_id = "1990000000000000003"
description = "Animate for patrons"
cost = 10
roles = ["{patron}"]

[[workflows.patron-animate.inputs]]
name = "image"
kind = "image"
node_id = "52"
field = "image"
required = true

[[workflows.patron-animate.inputs]]
name = "prompt"
kind = "text"
node_id = "6"
field = "text"
"""


@dataclass
class Gated:
    fake: FakeDiscord
    sim: Simulator
    bot: Any
    general: FakeChannel
    art: FakeChannel
    patron: FakeRole
    pat: FakeMember  # holds the Patron role
    alice: FakeMember  # does not
    mod: FakeMember

    async def holds(self) -> int:
        row = await self.bot.services.db.fetchone("SELECT COUNT(*) FROM ledger WHERE kind = 'hold'")
        return int(row[0]) if row else 0

    async def moderate(self, command: str, options: dict[str, object]) -> None:
        name, _, sub = command.partition(" ")
        ix = await self.fake.invoke(self.mod, self.general, name, options, subcommand=sub or None)  # type: ignore[arg-type]
        await ix.reply()

    async def start(self, member: FakeMember, alias: str, prompt: str) -> tuple[int, FakeMessage]:
        ix = await self.fake.invoke(member, self.general, "generate", {"workflow": alias, "prompt": prompt})
        job_id = job_number(await ix.reply())
        result = await self.fake.wait_for_message(self.general, lambda m: f"rh:rerun:{job_id}" in m.custom_ids)
        return job_id, result


@pytest.fixture
async def gated(
    fake_discord: FakeDiscord,  # noqa: F811
    simulator: Simulator,
    tmp_path: Path,
) -> AsyncIterator[Gated]:
    guild = fake_discord.add_guild("Art Club", locale="en-US")
    general, art = guild.add_channel("general"), guild.add_channel("art")
    patron = guild.add_role("Patron")
    pat, alice = guild.add_member("pat", roles=[patron]), guild.add_member("alice")
    mod = guild.add_member("mod", permissions=MANAGE_GUILD)
    workflows = tmp_path / "workflows.toml"
    workflows.write_text(SHIPPED_WORKFLOWS.read_text(encoding="utf-8") + PATRON_ALIASES.format(patron=patron.id),
                         encoding="utf-8")
    env = {"DISCORD_GUILD_ID": str(guild.id), "DEFAULT_ALLOWANCE": str(ALLOWANCE), "WORKFLOWS_PATH": str(workflows)}
    async with running_bot(fake_discord, tmp_path=tmp_path, simulator=simulator, env=env) as bot:
        yield Gated(fake_discord, simulator, bot, general, art, patron, pat, alice, mod)


async def test_without_the_role_every_entry_point_is_refused_with_nothing_held(gated: Gated) -> None:
    g = gated
    job_id, result = await g.start(g.pat, "patron-cat", "a cat")
    await eventually(lambda: len(g.sim.creates()) == 1)
    posted = g.fake.post_message(g.pat, g.general, "", files=[("a.png", RED)])
    # Opened while Pat still holds the role: the edit form and the menu's alias list and form.
    form = await g.fake.click(g.pat, result, f"rh:edit:{job_id}")
    assert await form.acked() == 9
    menu = await menu_for(g.fake, g.pat, posted)
    assert "patron-animate" in menu.select(f"rh:pick:{posted.id}").values
    image_form = await g.fake.choose(g.pat, menu, f"rh:pick:{posted.id}", "patron-animate")
    assert await image_form.acked() == 9
    holds, creates = await g.holds(), len(g.sim.creates())
    role_refusal = t("gov.refused.alias_role", "en", alias="patron-cat", roles=g.patron.mention)

    # Alice never had the role: re-run and edit refuse her, the menu does not offer the alias.
    assert await (await g.fake.click(g.alice, result, f"rh:rerun:{job_id}")).reply() == role_refusal
    assert await (await g.fake.click(g.alice, result, f"rh:edit:{job_id}")).reply() == role_refusal
    alices = await menu_for(g.fake, g.alice, posted)
    assert alices.select(f"rh:pick:{posted.id}").values == ["animate", "style-transfer", "upscale"]

    # Pat loses the role: the submit of a form opened before, and a stale choice, are refused.
    g.pat.remove_roles(g.patron)
    await asyncio.sleep(0.1)  # the member update reaches the bot's cache
    assert await (await g.fake.submit_modal(form, {"prompt": "a dog"})).reply() == role_refusal
    animate_refusal = t("gov.refused.alias_role", "en", alias="patron-animate", roles=g.patron.mention)
    assert await (await g.fake.submit_modal(image_form, {"prompt": "zoom"})).reply() == animate_refusal
    stale = await g.fake.choose(g.pat, menu, f"rh:pick:{posted.id}", "patron-animate")
    assert await stale.reply() == animate_refusal
    assert await (await g.fake.click(g.pat, result, f"rh:rerun:{job_id}")).reply() == role_refusal

    assert await g.holds() == holds and len(g.sim.creates()) == creates
    assert posted.attachments[0].downloads == 0 and g.sim.uploads == {}


async def test_in_a_disallowed_channel_every_entry_point_is_refused_with_nothing_held(gated: Gated) -> None:
    g = gated
    job_id, result = await g.start(g.alice, "z-image", "a cat")
    await eventually(lambda: len(g.sim.creates()) == 1)
    posted = g.fake.post_message(g.alice, g.general, "", files=[("a.png", RED), ("b.png", BLUE)])
    form = await g.fake.click(g.alice, result, f"rh:edit:{job_id}")
    assert await form.acked() == 9
    menu = await menu_for(g.fake, g.alice, posted)
    image_form = await g.fake.choose(g.alice, menu, f"rh:pick:{posted.id}", "animate")
    assert await image_form.acked() == 9
    holds, creates = await g.holds(), len(g.sim.creates())

    await g.moderate("settings channels", {"action": "add", "channel": g.art})
    refusal = t("gov.refused.channel", "en", channels=g.art.mention)
    assert await (await g.fake.click(g.alice, result, f"rh:rerun:{job_id}")).reply() == refusal
    assert await (await g.fake.click(g.alice, result, f"rh:edit:{job_id}")).reply() == refusal
    assert await (await g.fake.submit_modal(form, {"prompt": "a dog"})).reply() == refusal
    assert await (await g.fake.invoke_message_command(g.alice, posted, MENU)).reply() == refusal
    assert await (await g.fake.choose(g.alice, menu, f"rh:pick:{posted.id}", "style-transfer")).reply() == refusal
    assert await (await g.fake.submit_modal(image_form, {"prompt": "zoom"})).reply() == refusal

    assert await g.holds() == holds and len(g.sim.creates()) == creates
    assert [a.downloads for a in posted.attachments] == [0, 0] and g.sim.uploads == {}


async def menu_for(fake: FakeDiscord, member: FakeMember, message: FakeMessage) -> FakeMessage:
    """The ephemeral alias select the menu answers with."""
    ix = await fake.invoke_message_command(member, message, MENU)
    await ix.reply()
    assert ix.original is not None, await ix.reply()
    return ix.original
