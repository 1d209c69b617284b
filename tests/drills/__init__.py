"""Fault drills: the bot killed, RunningHub and Discord misbehaving, an unusable database.

Each drill runs the real code against the loopback fake Discord and the RunningHub simulator
and checks the outcomes the design promises (delivered once, charged once, books balanced).
"""
