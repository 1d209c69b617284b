"""Acknowledgement under load: 50 simultaneous /generate with 5 MB attachments.

    python bench/ack.py                 # about 5 s
    python bench/ack.py --members 10 --size 1000000 --rounds 1

The real bot (tests/harness.running_bot: RHBot, its cogs and job service) runs in this process
against the loopback fake Discord (tests/fakediscord: REST, gateway and attachment CDN, also in
this process) and the RunningHub simulator (in a child process, so that parsing 50 uploads
of 5 MB is not charged to the bot). 50 members, each granted coins, each send one /generate
upscale with a 5 MB PNG at the same moment. Measured:
  - ack: time from the interaction's dispatch on the gateway to the fake receiving the deferral
    (Discord's limit is 3 s; goal: p99 under 250 ms);
  - reply: time to the "queued" answer (attachment downloaded, uploaded, job journaled);
  - the event loop's longest stall while the burst is handled (a ticker task that wakes every
    5 ms records how late it wakes);
  - RSS growth: the process's peak RSS during the burst above its RSS just before (VmHWM);
  - ack while busy: during each /generate burst, another member sends /jobs every 100 ms until
    every /generate has its answer, so these arrive while 50 downloads and uploads are in flight.
Side by side, in the same run, the same 50 members send /jobs at once (a command that only
defers and reads the database): the ratio generate / jobs of the ack p99 is the cost of the
attachments. Bursts alternate (jobs, generate, jobs, generate...) so that drift hits both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import logging
import math
import random
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

from bench._support import SimulatorProcess, StallTicker, peak_rss_kib, percentile, reset_peak_rss, rss_kib
from tests.fakediscord.model import FakeChannel, FakeInteraction, FakeMember
from tests.fakediscord.server import FakeDiscord
from tests.harness import running_bot

ACK_LIMIT = 3.0  # Discord's
ACK_GOAL = 0.250
PROBE_EVERY = 0.1
BURST_LIMIT = 180.0  # seconds; a burst normally takes one or two


@dataclass
class Burst:
    command: str
    acks: list[float] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)
    stalls: list[float] = field(default_factory=list)  # longest stall of each burst
    probes: list[float] = field(default_factory=list)  # acks of /jobs sent while this burst is handled
    rss_growth: list[int] = field(default_factory=list)  # KiB above the RSS before each burst, at its peak


def noise_png(size: int, seed: int = 7) -> bytes:
    """A real PNG of about `size` bytes (noise does not compress)."""
    side = max(8, math.isqrt(size // 3))
    rng = random.Random(seed)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3)).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


async def probing(fake: FakeDiscord, channel: FakeChannel, member: FakeMember, done: asyncio.Event) -> list[float]:
    """/jobs every PROBE_EVERY s until `done`: acks of interactions that arrive while the bot is busy."""
    sent: list[FakeInteraction] = []
    while not done.is_set():
        sent.append(await fake.invoke(member, channel, "jobs"))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), PROBE_EVERY)
    await asyncio.gather(*(ix.acked(timeout=30) for ix in sent))
    return [ix.ack_latency for ix in sent if ix.ack_latency is not None]


async def burst(
    fake: FakeDiscord,
    channel: FakeChannel,
    members: list[FakeMember],
    command: str,
    options: Callable[[FakeMember], dict[str, Any]],
    ticker: StallTicker,
    into: Burst,
    prober: FakeMember | None = None,
) -> None:
    """Every member invokes `command` at once; waits for every deferral and every reply."""
    done = asyncio.Event()
    gc.collect()
    before = rss_kib()
    reset_peak_rss()
    # A wedged gateway would otherwise wait forever in fake.invoke's flush: fail loudly instead.
    async with asyncio.timeout(BURST_LIMIT), ticker.running():
        interactions: list[FakeInteraction] = await asyncio.gather(
            *(fake.invoke(member, channel, command, options(member)) for member in members)
        )
        probes = asyncio.create_task(probing(fake, channel, prober, done)) if prober is not None else None
        await asyncio.gather(*(ix.acked(timeout=30) for ix in interactions))
        texts = await asyncio.gather(*(ix.reply(timeout=120) for ix in interactions))
        done.set()
        if probes is not None:
            into.probes.extend(await probes)
    for ix, text in zip(interactions, texts, strict=True):
        if ix.callback_type != 5 or not ix.ephemeral:
            raise SystemExit(f"/{command}: expected an ephemeral deferral, got callback {ix.callback_type}")
        if command == "generate" and "#" not in text:
            raise SystemExit(f"/generate was refused: {text!r}")
        assert ix.ack_latency is not None
        into.acks.append(ix.ack_latency)
        first_reply = next(r.time for r in ix.responses if r.action in ("followup", "edit"))
        into.replies.append(first_reply - ix.dispatched_at)
    into.stalls.append(ticker.longest)
    into.rss_growth.append(peak_rss_kib() - before)


async def main(*, members: int = 50, size: int = 5 * 1024 * 1024, rounds: int = 2) -> tuple[Burst, Burst]:
    picture = noise_png(size)
    fake = FakeDiscord(token="bench-token")
    await fake.start()
    guild = fake.add_guild("Bench")
    channel = guild.add_channel("general")
    people = [guild.add_member(f"member{i}") for i in range(members)]
    prober = guild.add_member("prober")
    jobs, generate = Burst("jobs"), Burst("generate")
    ticker = StallTicker()
    # Queue time 0 and a second of work: the scheduler, poller and deliveries run during the bursts.
    sim_options = {"queue_seconds": 0.0, "run_seconds": 1.0, "concurrency": 5}
    env = {"DISCORD_GUILD_ID": str(guild.id), "RUNNINGHUB_CONCURRENCY": "5", "POLL_INTERVAL": "0.5",
           "LOG_LEVEL": "WARNING"}
    try:
        async with SimulatorProcess(options=sim_options) as sim:
            with tempfile.TemporaryDirectory(prefix="bench-ack-") as folder:
                async with running_bot(fake, tmp_path=Path(folder), simulator=sim, env=env) as bot:  # type: ignore[arg-type]
                    for person in people:
                        await bot.services.ledger.grant(guild.id, person.id, 10_000, fake.owner.id, "benchmark")

                    def generate_options(member: FakeMember) -> dict[str, Any]:
                        attachment = fake.host_attachment(picture, "photo.png", "image/png")
                        return {"workflow": "upscale", "image": attachment}

                    for _ in range(rounds):
                        await burst(fake, channel, people, "jobs", lambda _m: {}, ticker, jobs)
                        await burst(fake, channel, people, "generate", generate_options, ticker, generate, prober)
    finally:
        await fake.stop()
    if fake.errors:
        raise SystemExit(f"the fake Discord failed while serving the bot: {fake.errors[:3]}")

    print(f"ack: {members} members invoke at once, {rounds} rounds; /generate carries a"
          f" {len(picture) / 1024 / 1024:.1f} MB PNG (workflow upscale), /jobs only defers and reads")
    print(f"{'command':<10} {'n':>4} {'ack p50':>9} {'ack p99':>9} {'ack max':>9} {'reply p50':>10}"
          f" {'reply p99':>10} {'longest stall':>14} {'RSS growth':>11}")
    for b in (jobs, generate):
        print(f"/{b.command:<9} {len(b.acks):>4} {percentile(b.acks, 50) * 1000:>7.1f}ms"
              f" {percentile(b.acks, 99) * 1000:>7.1f}ms {max(b.acks) * 1000:>7.1f}ms"
              f" {percentile(b.replies, 50) * 1000:>8.0f}ms {percentile(b.replies, 99) * 1000:>8.0f}ms"
              f" {max(b.stalls) * 1000:>12.1f}ms {max(b.rss_growth) / 1024:>9.0f}MB")
    probes = generate.probes
    print(f"/jobs sent every {PROBE_EVERY * 1000:.0f} ms while the /generate bursts were handled: n={len(probes)},"
          f" ack p50 {percentile(probes, 50) * 1000:.1f} ms, p99 {percentile(probes, 99) * 1000:.1f} ms,"
          f" max {max(probes, default=math.nan) * 1000:.1f} ms")
    ratio = percentile(generate.acks, 99) / percentile(jobs.acks, 99)
    print(f"ratio ack p99 /generate / /jobs (both bursts of {members}): {ratio:.2f};"
          f" ack p99 of /jobs while busy / idle: {percentile(probes, 99) / percentile(jobs.acks, 99):.2f}")
    for what, acks in (("/generate burst", generate.acks), ("/jobs while busy", probes)):
        p99 = percentile(acks, 99)
        verdict = "met" if p99 < ACK_GOAL else "MISSED"
        print(f"goal: ack p99 under {ACK_GOAL * 1000:.0f} ms (Discord allows {ACK_LIMIT:g} s), {what}"
              f" -> {p99 * 1000:.1f} ms {verdict}")
    return jobs, generate


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--size", type=int, default=5 * 1024 * 1024, help="attachment bytes")
    parser.add_argument("--rounds", type=int, default=2)
    return parser.parse_args(argv)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    options = parse_args()
    asyncio.run(main(members=options.members, size=options.size, rounds=options.rounds))
