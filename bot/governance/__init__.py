"""Governance: who may start jobs where, with what words (design §9). No Discord in here."""
