"""The RunningHub simulator, importable as `bot.runninghub.simulator` (it lives in `bot.runninghub.sim`)."""

from bot.runninghub.sim import *  # noqa: F403 - the same names, from the shorter path
from bot.runninghub.sim import __all__  # noqa: F401
