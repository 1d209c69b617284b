"""The progress websocket's messages, in the JSON shapes ComfyUI sends on its `/ws`.

RunningHub's `netWssUrl` relays ComfyUI's own messages. A run is planned as a list of
(seconds after the task started running, message) spread over the run time: `execution_start`,
`execution_cached`, then `executing` {node} for each node and `progress` {value, max, node} for
every sampler step. The closing messages (`executed` per output, `execution_success` or
`execution_error` / `execution_interrupted`, then `executing` {node: null}) are built when the
task really ends, so the socket never claims success before `/outputs` does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from bot.runninghub.sim.media import SAVE_KINDS, node_order

Message = dict[str, Any]

# Nodes that report per-step progress in ComfyUI, and the input holding their step count.
SAMPLERS = {"KSampler": "steps", "KSamplerAdvanced": "steps", "SamplerCustom": "steps"}
MAX_PROGRESS_MESSAGES = 50  # per sampler: a 1000-step sampler still sends a bounded stream
APP_PROGRESS_STEPS = 10  # AI apps have no graph here: one pseudo-sampler stands in
# The share of the run time taken by the samplers; the other nodes share the rest.
SAMPLER_SHARE = 0.8
# The plan ends a little before the run does, so the last step lands before the task ends.
PLAN_SPAN = 0.95
# ComfyUI's `executed` output key per kind of Save node.
OUTPUT_KEYS = {"image": "images", "audio": "audio", "video": "gifs", "text": "text"}


def now_ms() -> int:
    return int(time.time() * 1000)


def status_message(queue_remaining: int, client_id: str | None = None) -> Message:
    data: dict[str, Any] = {"status": {"exec_info": {"queue_remaining": queue_remaining}}}
    if client_id is not None:
        data["sid"] = client_id
    return {"type": "status", "data": data}


def plan_nodes(graph: Mapping[str, Any] | None, app_nodes: list[str]) -> list[tuple[str, str, int]]:
    """(node id, class_type, steps) in execution order; steps is 0 for a node without progress."""
    if graph:
        nodes: list[tuple[str, str, int]] = []
        for node_id in sorted(graph, key=node_order):
            node = graph[node_id]
            class_type = str(node.get("class_type", ""))
            steps_field = SAMPLERS.get(class_type)
            steps = node.get("inputs", {}).get(steps_field) if steps_field else None
            nodes.append((node_id, class_type, steps if isinstance(steps, int) and steps > 0 else 0))
        return nodes
    seen = list(dict.fromkeys(app_nodes)) or ["1"]
    # The last node before the outputs does the work, like a sampler.
    return [(n, "", APP_PROGRESS_STEPS if i == len(seen) - 1 else 0) for i, n in enumerate(seen)]


def run_plan(nodes: list[tuple[str, str, int]], run_seconds: float, prompt_id: str) -> list[tuple[float, Message]]:
    """The messages of a run with their offsets (seconds after the task started running)."""
    span = max(0.0, run_seconds) * PLAN_SPAN
    sampler_steps = sum(min(steps, MAX_PROGRESS_MESSAGES) for _, _, steps in nodes)
    plain = [n for n in nodes if n[2] == 0 and n[1] not in SAVE_KINDS]
    sampler_time = span * SAMPLER_SHARE if sampler_steps else 0.0
    plain_each = (span - sampler_time) / max(1, len(plain))
    step_each = sampler_time / max(1, sampler_steps)

    plan: list[tuple[float, Message]] = [
        (0.0, {"type": "execution_start", "data": {"prompt_id": prompt_id}}),
        (0.0, {"type": "execution_cached", "data": {"nodes": [], "prompt_id": prompt_id}}),
    ]
    at = 0.0
    for node_id, class_type, steps in nodes:
        if class_type in SAVE_KINDS:
            continue  # output nodes execute at the end, with their files
        executing = {"node": node_id, "display_node": node_id, "prompt_id": prompt_id}
        plan.append((at, {"type": "executing", "data": executing}))
        if not steps:
            at += plain_each
            continue
        shown = min(steps, MAX_PROGRESS_MESSAGES)
        for i in range(1, shown + 1):
            at += step_each
            value = round(i * steps / shown)
            progress = {"value": value, "max": steps, "prompt_id": prompt_id, "node": node_id}
            plan.append((at, {"type": "progress", "data": progress}))
    return plan


def success_messages(prompt_id: str, outputs: list[tuple[str, str, str]]) -> list[Message]:
    """What ComfyUI sends as a run ends well; `outputs` is (node id, kind, file name) per file."""
    messages: list[Message] = []
    for node_id, kind, name in outputs:
        key = OUTPUT_KEYS.get(kind, "images")
        item: Any = name if key == "text" else {"filename": name, "subfolder": "", "type": "output"}
        executing = {"node": node_id, "display_node": node_id, "prompt_id": prompt_id}
        executed = {**executing, "output": {key: [item]}}
        messages.append({"type": "executing", "data": executing})
        messages.append({"type": "executed", "data": executed})
    messages.append({"type": "execution_success", "data": {"prompt_id": prompt_id, "timestamp": now_ms()}})
    messages.append({"type": "executing", "data": {"node": None, "prompt_id": prompt_id}})
    return messages


def failure_messages(prompt_id: str, reason: Mapping[str, str], *, cancelled: bool) -> list[Message]:
    """ComfyUI's `execution_interrupted` for a cancel, `execution_error` for a node failure."""
    if cancelled:
        data: dict[str, Any] = {
            "prompt_id": prompt_id,
            "node_id": reason.get("node_id", ""),
            "node_type": reason.get("node_name", ""),
            "executed": [],
            "timestamp": now_ms(),
        }
        return [{"type": "execution_interrupted", "data": data}]
    try:
        traceback = json.loads(reason.get("traceback", "[]"))
    except ValueError:
        traceback = [reason.get("traceback", "")]
    data = {
        "prompt_id": prompt_id,
        "node_id": reason.get("node_id", ""),
        "node_type": reason.get("node_name", ""),
        "executed": [],
        "exception_message": reason.get("exception_message", ""),
        "exception_type": reason.get("exception_type", ""),
        "traceback": traceback if isinstance(traceback, list) else [str(traceback)],
        "current_inputs": {},
        "current_outputs": {},
        "timestamp": now_ms(),
    }
    return [{"type": "execution_error", "data": data}]
