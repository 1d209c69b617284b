"""What `inspect` and `check` read from a workflow's API-format JSON (or an AI app's node list).

Pure functions: they find the inputs a member could set (media loaders, text encoders, seeds,
numbers), suggest a ready-to-paste workflows.toml block, and check an alias against the graph.
This answers "which nodeId do I use?", the most common stumbling block of RunningHub API users.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.workflows import DEFAULT_MAX_LENGTH, IMAGE_OPTIONS, MAX_SAFE_INT, Workflow, WorkflowInput

MEDIA_LOADERS: Mapping[str, str] = {
    "LoadImage": "image",
    "LoadImageMask": "image",
    "LoadAudio": "audio",
    "VHS_LoadAudioUpload": "audio",
    "LoadVideo": "video",
    "VHS_LoadVideo": "video",
}
MEDIA_FIELDS = ("image", "audio", "video", "file")
TEXT_FIELDS = ("text", "prompt", "text_g", "text_l")
SEED_FIELDS = ("seed", "noise_seed")
# Numbers worth offering as params, with a sensible range: (kind, min, max).
NUMBER_RANGES: Mapping[str, tuple[str, float, float]] = {
    "steps": ("int", 1, 150),
    "cfg": ("float", 0.0, 30.0),
    "guidance": ("float", 0.0, 30.0),
    "denoise": ("float", 0.0, 1.0),
    "width": ("int", 64, 4096),
    "height": ("int", 64, 4096),
    "length": ("int", 1, 1000),
    "frames": ("int", 1, 1000),
    "num_frames": ("int", 1, 1000),
    "speed": ("float", 0.1, 4.0),
    "duration": ("float", 0.1, 600.0),
    "batch_size": ("int", 1, 16),
}
_APP_KINDS = {
    "IMAGE": "image",
    "AUDIO": "audio",
    "VIDEO": "video",
    "STRING": "text",
    "LIST": "text",
    "INT": "int",
    "FLOAT": "float",
    "BOOLEAN": "bool",
}


@dataclass
class Candidate:
    """One input of a workflow as `inspect` shows it, with the workflows.toml entry it suggests."""

    node_id: str
    class_type: str
    title: str
    field: str
    value: Any
    group: str  # media, text, seed, number, other
    kind: str
    name: str | None = None  # suggested input name; None = only listed in the table
    note: str | None = None  # why it is left out of (or commented in) the block


def _node_order(node_id: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[:.]", node_id))


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


def _number_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return None


def _conditioning_sources(nodes: Mapping[str, Any], text_nodes: set[str]) -> tuple[set[str], set[str]]:
    """Text nodes wired (directly or through conditioning nodes) into samplers' positive/negative."""

    def trace(node_id: str, port: str, depth: int) -> str | None:
        if node_id in text_nodes:
            return node_id
        node = nodes.get(node_id)
        if depth > 6 or not isinstance(node, dict):
            return None
        inputs = node.get("inputs") or {}
        for key in (port, "conditioning", "conditioning_to", "conditioning_1"):
            if _is_link(inputs.get(key)):
                found = trace(str(inputs[key][0]), port, depth + 1)
                if found:
                    return found
        return None

    positive: set[str] = set()
    negative: set[str] = set()
    for node in nodes.values():
        inputs = node.get("inputs") or {}
        for port, bucket in (("positive", positive), ("negative", negative)):
            if _is_link(inputs.get(port)):
                found = trace(str(inputs[port][0]), port, 0)
                if found:
                    bucket.add(found)
    return positive, negative - positive


def _looks_negative(title: str) -> bool:
    lower = title.lower()
    return "negative" in lower or "负" in title or "反向" in title


def _looks_positive(title: str) -> bool:
    return "positive" in title.lower() or "正向" in title or "正面" in title


def _unique(base: str, taken: set[str], node_id: str) -> str:
    """`base`, else `base_<node id>`, else `base2`, `base3`...: always a valid input name."""
    base = base[:24]
    name = base if base not in taken else f"{base}_{re.sub(r'[^a-z0-9]', '_', node_id.lower())}"[:32]
    counter = 2
    while name in taken:
        name = f"{base}{counter}"
        counter += 1
    taken.add(name)
    return name


def _name_media(candidates: list[Candidate]) -> None:
    slots = {"image": list(IMAGE_OPTIONS), "audio": ["audio"], "video": ["video"]}
    for cand in candidates:
        if cand.group != "media":
            continue
        free = slots[cand.kind]
        if free:
            cand.name = free.pop(0)
        else:
            cand.note = (
                f"only {', '.join(IMAGE_OPTIONS if cand.kind == 'image' else [cand.kind])} can be filled"
            )


def inspect_workflow_nodes(nodes: Mapping[str, Any]) -> list[Candidate]:
    """The inputs an operator may want to expose, from an API-format workflow."""
    ordered = sorted(
        ((str(k), v) for k, v in nodes.items() if isinstance(v, dict)), key=lambda item: _node_order(item[0])
    )
    text_nodes = {
        node_id
        for node_id, node in ordered
        if node.get("class_type") not in MEDIA_LOADERS
        and any(isinstance((node.get("inputs") or {}).get(f), str) for f in TEXT_FIELDS)
    }
    positive, negative = _conditioning_sources(dict(ordered), text_nodes)

    candidates: list[Candidate] = []
    for node_id, node in ordered:
        class_type = str(node.get("class_type") or "?")
        title = str((node.get("_meta") or {}).get("title") or class_type)
        inputs = node.get("inputs") or {}
        if not isinstance(inputs, dict):
            continue
        media_kind = MEDIA_LOADERS.get(class_type)
        for field, value in inputs.items():
            if _is_link(value):
                continue
            base = dict(node_id=node_id, class_type=class_type, title=title, field=field, value=value)
            if media_kind and field in MEDIA_FIELDS and isinstance(value, str):
                candidates.append(Candidate(**base, group="media", kind=media_kind))
            elif field in TEXT_FIELDS and isinstance(value, str) and node_id in text_nodes:
                candidates.append(Candidate(**base, group="text", kind="text"))
            elif field in SEED_FIELDS and _number_kind(value) == "int":
                candidates.append(Candidate(**base, group="seed", kind="int"))
            elif _number_kind(value) is not None:
                candidates.append(Candidate(**base, group="number", kind=_number_kind(value) or "int"))
            elif isinstance(value, str) and not media_kind and "filename" not in field:
                candidates.append(Candidate(**base, group="other", kind="text"))

    _name_media(candidates)
    taken = {c.name for c in candidates if c.name}
    texts = [c for c in candidates if c.group == "text"]
    negatives = [
        c for c in texts if c.node_id in negative or (c.node_id not in positive and _looks_negative(c.title))
    ]
    positives = [c for c in texts if c not in negatives]
    prompt = next((c for c in positives if c.node_id in positive), None)
    prompt = prompt or next((c for c in positives if _looks_positive(c.title)), None)
    prompt = prompt or (positives[0] if positives else None)
    if prompt is not None:
        prompt.name = "prompt"
        taken.add("prompt")
    for cand in negatives:
        cand.name = _unique("negative", taken, cand.node_id)
    for cand in texts:
        if cand.name is None:
            cand.name = _unique("text", taken, cand.node_id)
    for cand in candidates:
        if cand.group == "seed":
            cand.name = _unique("seed", taken, cand.node_id)
        elif cand.group == "number" and cand.field in NUMBER_RANGES:
            kind = NUMBER_RANGES[cand.field][0]
            if kind == "int" and cand.kind == "float":
                continue
            cand.kind = kind
            cand.name = _unique(cand.field, taken, cand.node_id)
    return candidates


def inspect_app_nodes(items: Sequence[Mapping[str, Any]]) -> list[Candidate]:
    """The same for an AI app's nodeInfoList (apiCallDemo), whose fields are all meant to be set."""
    candidates: list[Candidate] = []
    for item in items:
        kind = _APP_KINDS.get(str(item.get("fieldType") or "").upper(), "text")
        field = str(item.get("fieldName") or "")
        value: Any = item.get("fieldValue")
        if kind in ("int", "float"):
            try:
                value = int(str(value)) if kind == "int" else float(str(value))
            except ValueError:
                kind = "text"
        elif kind == "bool":
            value = str(value).strip().lower() in ("true", "1", "yes")
        group = "media" if kind in ("image", "audio", "video") else "text" if kind == "text" else "number"
        if group == "number" and field in SEED_FIELDS:
            group = "seed"
        title = str(item.get("descriptionEn") or item.get("description") or item.get("nodeName") or "")
        candidates.append(
            Candidate(
                node_id=str(item.get("nodeId") or "?"),
                class_type=str(item.get("nodeName") or "?"),
                title=title,
                field=field,
                value=value if value is not None else "",
                group=group,
                kind=kind,
            )
        )
    _name_media(candidates)
    taken = {c.name for c in candidates if c.name}
    for cand in candidates:
        if cand.name is not None:
            continue
        if cand.group == "text" and "prompt" not in taken and not _looks_negative(cand.title):
            cand.name = "prompt"
            taken.add("prompt")
        elif cand.group == "text":
            cand.name = _unique("negative" if _looks_negative(cand.title) else "text", taken, cand.node_id)
        elif cand.group == "seed":
            cand.name = _unique("seed", taken, cand.node_id)
        else:
            cand.name = _unique(
                re.sub(r"[^a-z0-9_]", "_", cand.field.lower()) or "value", taken, cand.node_id
            )
            if not cand.name[0].isalpha():
                cand.name = _unique("p_" + cand.name, taken, cand.node_id)
    return candidates


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _cell(value: Any, limit: int) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())  # no escapes
    if _width(text) > limit:
        while _width(text) > limit - 1:
            text = text[:-1]
        text += "…"
    return text


_GROUP_ORDER = {"media": 0, "text": 1, "seed": 2, "number": 3, "other": 4}


def render_table(candidates: Sequence[Candidate]) -> str:
    """Media loaders first, then text, seeds, numbers and other settings; node order within each."""
    candidates = sorted(candidates, key=lambda c: _GROUP_ORDER.get(c.group, 9))
    header = ("node", "class", "title", "field", "current value", "suggested input")
    rows = [header] + [
        (
            _cell(c.node_id, 12),
            _cell(c.class_type, 24),
            _cell(c.title, 36),
            _cell(c.field, 24),
            _cell(c.value, 36),
            c.name or (f"- ({c.note})" if c.note else "-"),
        )
        for c in candidates
    ]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, plus DEL must be escaped)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # Python's float repr is valid TOML (1.0, 0.65, 1e-07)
    return toml_string(str(value))


def _comment(text: str) -> str:
    """Text safe for a TOML comment: printable characters only, one line, cut short."""
    printable = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return " ".join(printable.split())[:60]


def inspect_nodes(data: Any, *, app: bool) -> list[Candidate]:
    """The candidates of a workflow's API JSON (`app=False`) or of an AI app's node list."""
    return inspect_app_nodes(data) if app else inspect_workflow_nodes(data)


def _block_order(cand: Candidate) -> tuple[int, bool]:
    """Media loaders, the prompt, other texts, seeds, numbers: the order of the block and the reply."""
    return (_GROUP_ORDER.get(cand.group, 9), cand.name != "prompt")


def suggest_input(cand: Candidate) -> WorkflowInput | None:
    """The input a named candidate becomes (None for one left out): the one mapping of §10.

    `inspect` prints it as a workflows.toml block, `/workflow add` stores it; both come from here.
    Media and the prompt are required; seeds and numbers take the workflow's current value as
    their default, within a sensible range widened to include that value.
    """
    if cand.name is None:
        return None
    base = dict(name=cand.name, kind=cand.kind, node_id=cand.node_id, field=cand.field)
    if cand.group == "media" or cand.name == "prompt":
        return WorkflowInput(**base, required=True, max_length=DEFAULT_MAX_LENGTH if cand.kind == "text" else None)
    if cand.group == "text":
        # No default: the workflow's own text applies unless a member sets one.
        return WorkflowInput(**base, max_length=DEFAULT_MAX_LENGTH)
    value = cand.value
    if cand.kind == "bool":
        return WorkflowInput(**base, default=value if isinstance(value, bool) else None)
    if cand.kind not in ("int", "float"):
        return WorkflowInput(**base)
    minimum: float | int | None = None
    maximum: float | int | None = None
    if cand.group == "seed":
        minimum, maximum = 0, MAX_SAFE_INT
    elif cand.field in NUMBER_RANGES:
        _, minimum, maximum = NUMBER_RANGES[cand.field]
    usable = _number_kind(value) in ("int", "float") and math.isfinite(value)
    default: float | int | None = None
    if usable:
        default = float(value) if cand.kind == "float" else int(value)
        if cand.kind == "int" and abs(default) > MAX_SAFE_INT:
            default = None
        elif minimum is not None and maximum is not None:
            minimum, maximum = min(minimum, default), max(maximum, default)  # the current value must fit
    if minimum is not None and maximum is not None:
        cast = int if cand.kind == "int" else float
        minimum, maximum = cast(minimum), cast(maximum)
    return WorkflowInput(**base, default=default, min=minimum, max=maximum)


def suggest_inputs(candidates: Sequence[Candidate]) -> tuple[WorkflowInput, ...]:
    """The inputs of a new alias, in block order (media, prompt, texts, seeds, numbers)."""
    ordered = sorted(candidates, key=_block_order)
    return tuple(item for item in map(suggest_input, ordered) if item is not None)


def render_toml(
    alias: str,
    candidates: Sequence[Candidate],
    *,
    workflow_id: str | None = None,
    webapp_id: str | None = None,
    description: str,
) -> str:
    """A [workflows.<alias>] block that parse_workflows accepts, from the named candidates."""
    lines = [f"[workflows.{alias}]"]
    if workflow_id:
        lines.append(f"workflow_id = {toml_string(workflow_id)}")
    else:
        lines.append(f"webapp_id = {toml_string(str(webapp_id))}")
    lines.append(
        f"description = {toml_string(description[:100])}   # shown to members (at most 100 characters)"
    )
    lines.append("cost = 10   # coins per run: set your own price")
    for cand in sorted(candidates, key=_block_order):
        item = suggest_input(cand)
        if item is None:
            if cand.note:
                lines += [
                    "",
                    "# " + _comment(f"node {cand.node_id} ({cand.class_type}) {cand.field}: {cand.note}"),
                ]
            continue
        lines += [
            "",
            f"[[workflows.{alias}.inputs]]",
            f"name = {toml_string(item.name)}",
            f"kind = {toml_string(item.kind)}",
            f"node_id = {toml_string(item.node_id)}   # {_node_label(cand)}",
            f"field = {toml_string(item.field)}",
        ]
        lines += _input_lines(item, cand)
    return "\n".join(lines) + "\n"


def _node_label(cand: Candidate) -> str:
    same = cand.title in ("", cand.class_type)
    return _comment(cand.class_type if same else f"{cand.class_type}: {cand.title}")


def _input_lines(item: WorkflowInput, cand: Candidate) -> list[str]:
    lines = []
    if item.required:
        lines.append("required = true")
    for key in ("default", "min", "max"):
        value = getattr(item, key)
        if value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    if cand.group == "text" and not item.required:
        lines.append(f"# workflow value: {_comment(json.dumps(cand.value, ensure_ascii=False))}")
    return lines


def check_workflow_inputs(workflow: Workflow, nodes: Mapping[str, Any]) -> list[str]:
    """Problems of an alias against its workflow's API JSON (empty when every input fits)."""
    problems: list[str] = []
    for item in workflow.inputs:
        node = nodes.get(item.node_id)
        if not isinstance(node, dict):
            problems.append(f"input '{item.name}': node {item.node_id} is not in the workflow")
            continue
        inputs = node.get("inputs") or {}
        class_type = node.get("class_type", "?")
        if item.field not in inputs:
            have = ", ".join(inputs) or "none"
            problems.append(
                f"input '{item.name}': node {item.node_id} ({class_type}) has no field '{item.field}'"
                f" (it has: {have})"
            )
        elif _is_link(inputs[item.field]):
            source = inputs[item.field][0]
            problems.append(
                f"input '{item.name}': node {item.node_id} field '{item.field}' is wired to node {source}; "
                "set the value on that node instead"
            )
    return problems


def check_app_inputs(workflow: Workflow, items: Sequence[Mapping[str, Any]]) -> list[str]:
    known = {(str(i.get("nodeId")), str(i.get("fieldName"))) for i in items}
    return [
        f"input '{item.name}': node {item.node_id} field '{item.field}' is not an editable field of the app"
        for item in workflow.inputs
        if (item.node_id, item.field) not in known
    ]
