"""What a job was made of, as stored in `jobs.inputs`: enough to show it, run it again or edit it.

The record keeps what the member gave (prompt, params, the names of their files), what the bot
added (a drawn seed), where RunningHub holds the uploads, and the nodeInfoList the scheduler
sends. Re-run and edit start from it, so a result can be rebuilt without the member's files.

Seeds: when an alias has an integer `seed` param and the member set none, the bot draws one (a
`default` is the seed saved in the workflow, not a choice: every run would make the same picture),
so every result names the seed that made it. Re-run draws a new seed when the
seed was drawn (a variation) and keeps one the member typed (a repeat); edit shows the seed in
its params text and keeps it unless the member changes it, and a kept drawn seed still counts
as drawn.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.workflows import Workflow, WorkflowInput

SEED = "seed"
# Drawn seeds stay within 2**32 values above the input's min: ten digits a member can copy.
SEED_SPAN = 2**32


@dataclass(frozen=True)
class JobInputs:
    prompt: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)  # given by the member, plus a drawn seed
    files: Mapping[str, str] = field(default_factory=dict)  # option -> the file's name as the member had it
    uploads: Mapping[str, str] = field(default_factory=dict)  # option -> RunningHub's fileName
    # The pool key (fingerprint) whose account holds `uploads`: RunningHub's file names belong to one
    # account. None while nothing is uploaded (and for jobs from before the pool: the first key).
    uploads_key: str | None = None
    # option -> the file kept on disk (bot/jobs/spool.py) until the task exists, uploaded by the
    # scheduler with the key that creates the task
    spooled: Mapping[str, str] = field(default_factory=dict)
    nodes: tuple[Mapping[str, Any], ...] = ()  # the nodeInfoList, as sent
    seed_drawn: bool = False  # params["seed"] was picked by the bot, not typed by the member
    # Where the job runs (workflow or app id, instance type): it still runs after its alias is removed.
    target: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "params": dict(self.params),
            "files": dict(self.files),
            "uploads": dict(self.uploads),
            "uploads_key": self.uploads_key,
            "spooled": dict(self.spooled),
            "nodes": [dict(n) for n in self.nodes],
            "seed_drawn": self.seed_drawn,
            "target": dict(self.target),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JobInputs:
        """Tolerates records written before a key existed (no file names, no seed flag, no target)."""
        uploads = {str(k): str(v) for k, v in (data.get("uploads") or {}).items()}
        return cls(
            prompt=data.get("prompt"),
            params=dict(data.get("params") or {}),
            files={str(k): str(v) for k, v in (data.get("files") or {}).items()},
            uploads=uploads,
            uploads_key=data.get("uploads_key") or None,
            spooled={str(k): str(v) for k, v in (data.get("spooled") or {}).items()},
            nodes=tuple(dict(n) for n in data.get("nodes") or ()),
            seed_drawn=bool(data.get("seed_drawn", False)),
            target=dict(data.get("target") or {}),
        )

    @property
    def seed(self) -> int | None:
        value = self.params.get(SEED)
        return value if isinstance(value, int) and not isinstance(value, bool) else None


def target_of(workflow: Workflow) -> dict[str, Any]:
    """The part of an alias a job needs to be submitted: kept in its record."""
    return {
        "workflow_id": workflow.workflow_id,
        "webapp_id": workflow.webapp_id,
        "instance_type": workflow.instance_type,
    }


def seed_input(workflow: Workflow) -> WorkflowInput | None:
    """The alias's seed param when the bot may draw it: an integer."""
    item = workflow.input(SEED)
    if item is None or not item.is_param or item.kind != "int":
        return None
    return item


def draw_seed(item: WorkflowInput, rng: random.Random) -> int:
    low = int(item.min) if item.min is not None else 0
    high = low + SEED_SPAN - 1
    if item.max is not None:
        high = min(high, int(item.max))
    return rng.randint(low, max(low, high))


def with_seed(workflow: Workflow, params: Mapping[str, Any], rng: random.Random) -> tuple[dict[str, Any], bool]:
    """`params` plus a drawn seed when the alias takes one and none was given; and whether one was drawn."""
    values = dict(params)
    item = seed_input(workflow)
    if item is None or SEED in values:
        return values, False
    values[SEED] = draw_seed(item, rng)
    return values, True


def format_value(value: Any) -> str:
    """One param value as `params` text reads it back (text always quoted, so spaces and commas survive)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def params_text(workflow: Workflow | None, params: Mapping[str, Any], *, leave_out: tuple[str, ...] = ()) -> str:
    """'seed=42 steps=30 negative="blurry"': the params in the alias's order, readable by parse_params.

    Params the alias no longer has come last, so that a refusal names them instead of dropping them.
    """
    order = [i.name for i in workflow.params] if workflow is not None else []
    names = [n for n in order if n in params] + [n for n in params if n not in order]
    return " ".join(f"{name}={format_value(params[name])}" for name in names if name not in leave_out)


def rerun_params(workflow: Workflow, source: JobInputs) -> str:
    """The params text a re-run starts from: the same, without a drawn seed (a new one is drawn)."""
    return params_text(workflow, source.params, leave_out=(SEED,) if source.seed_drawn else ())


def seed_still_drawn(source: JobInputs, params: Mapping[str, Any]) -> bool:
    """After an edit: the seed is still the bot's own when the member left the drawn one as shown."""
    return source.seed_drawn and source.seed is not None and params.get(SEED) == source.seed
