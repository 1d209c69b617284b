"""zh-TW (Taiwan, Hong Kong) members: Traditional replies and command descriptions, through the fake Discord."""

from __future__ import annotations

from pathlib import Path

from bot.texts import t
from tests.fakediscord.plugin import fake_discord, fake_discord_server  # noqa: F401 (fixtures)
from tests.fakediscord.server import FakeDiscord
from tests.harness import flatten_commands, running_bot


async def test_a_taiwanese_member_gets_traditional_replies_and_descriptions(
    fake_discord: FakeDiscord,  # noqa: F811
    tmp_path: Path,
) -> None:
    guild = fake_discord.add_guild("藝術社", locale="zh-TW")
    channel = guild.add_channel("general")
    mei = guild.add_member("mei", locale="zh-TW")
    li = guild.add_member("li", locale="zh-CN")
    alice = guild.add_member("alice")
    env = {"DISCORD_GUILD_ID": str(guild.id), "DEFAULT_ALLOWANCE": "50"}
    async with running_bot(fake_discord, tmp_path=tmp_path, env=env):
        ix = await fake_discord.invoke(mei, channel, "balance", {})
        traditional = await ix.reply()
        assert ix.ephemeral is True
        assert traditional.splitlines() == [
            "你有 50 可用金幣。",
            "0 金幣被執行中的任務佔用。",
            "本伺服器沒有自動補充。",
        ]
        ix = await fake_discord.invoke(mei, channel, "balance", {"member": alice})
        assert await ix.reply() == "只有管理員可以檢視或修改其他成員的金幣。"
        # The Simplified and English members of the same server are unchanged.
        ix = await fake_discord.invoke(li, channel, "balance", {})
        assert (await ix.reply()).startswith("你有 50 可用金币。")
        ix = await fake_discord.invoke(alice, channel, "balance", {})
        assert (await ix.reply()).startswith("You have 50 coins available.")

    synced = fake_discord.synced_commands(guild)
    assert synced is not None
    by_name = {command["name"]: command for command in synced}
    assert by_name["generate"]["description_localizations"] == {
        "zh-CN": "用你的提示词和文件运行一个 RunningHub 工作流",
        "zh-TW": "用你的提示詞和檔案執行一個 RunningHub 工作流",
    }
    for command, options in flatten_commands(synced).items():
        for name, option in options.items():
            assert option["description_localizations"].get("zh-TW"), f"/{command} {name}"
    generate = flatten_commands(synced)["generate"]
    assert generate["params"]["description_localizations"]["zh-TW"] == t("cmd.generate.params", "zh-TW")
    assert "參數" in t("cmd.generate.params", "zh-TW")
