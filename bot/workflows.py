"""The workflow aliases of `data/workflows.toml` and the parsing of `params`.

Pure: the only I/O is reading the TOML file. A bad file raises `WorkflowConfigError` with one line
naming the alias, the key and the reason, so the bot refuses to start instead of failing later
in front of a member; its reason is a catalog text (bot/texts/catalog/workflow_config.py), so
`/workflow reload` can tell a moderator in their language. Bad member input raises `UserError`
with a key of bot/texts/catalog/workflows.py.
"""

from __future__ import annotations

import math
import re
import shlex
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.errors import UserError
from bot.texts import ENGLISH, Msg

# Inputs filled from the /generate option (or CLI flag) of the same name, with the kind each must have.
OPTION_KINDS: Mapping[str, str] = MappingProxyType(
    {
        "prompt": "text",
        "image": "image",
        "image2": "image",
        "image3": "image",
        "audio": "audio",
        "video": "video",
    }
)
OPTION_INPUTS = tuple(OPTION_KINDS)
IMAGE_OPTIONS = ("image", "image2", "image3")
MEDIA_KINDS = frozenset({"image", "audio", "video"})
KINDS = ("text", "image", "audio", "video", "int", "float", "bool")

DEFAULT_TIMEOUT = 1200
MAX_COST = 1_000_000_000
DEFAULT_MAX_LENGTH = 2000
MAX_DESCRIPTION = 100
INSTANCE_TYPES = ("default", "plus")
# TOML integers are signed 64-bit; JavaScript-safe is what RunningHub's web side keeps exactly.
MAX_SAFE_INT = 9007199254740991

# One rule for every alias, whether it comes from the file or from /workflow add.
ALIAS_RE = re.compile(r"^[a-z0-9_-]{1,32}$")
_INPUT_NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_WORKFLOW_KEYS = frozenset(
    {
        "workflow_id",
        "webapp_id",
        "description",
        "description_zh",
        "cost",
        "timeout",
        "instance_type",
        "enabled",
        "inputs",
        "roles",
        "channels",
        "nsfw",
    }
)
_INPUT_KEYS = frozenset(
    {
        "name",
        "kind",
        "node_id",
        "field",
        "required",
        "default",
        "min",
        "max",
        "choices",
        "max_length",
        "description",
    }
)
_TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
_FALSE_WORDS = frozenset({"false", "no", "off", "0"})
_VALUE_ECHO_LIMIT = 40  # user text echoed in a refusal is cut to this


@dataclass(frozen=True)
class Place:
    """Where inside the file a problem is: an alias, perhaps one of its inputs, perhaps a key."""

    alias: str
    input: Msg | None = None  # wfconfig.input_named or wfconfig.input_numbered
    key: str | None = None


class WorkflowConfigError(Exception):
    """workflows.toml is unusable; str() is one English line naming the file, the place and the reason.

    `reason_msg` is the reason as a catalog text and `place` where it is (None: the whole file).
    `alias`, `key` and `reason` are the English parts of the line, for logs and the command line.
    """

    def __init__(self, source: str, reason_msg: Msg, place: Place | None = None) -> None:
        self.source = source
        self.reason_msg = reason_msg
        self.place = place
        self.alias = place.alias if place else None
        words = [place.input.render(ENGLISH) if place.input else None, place.key] if place else []
        self.key = " ".join(w for w in words if w) or None
        self.reason = reason_msg.render(ENGLISH)
        super().__init__(f"{source}: {self._where()}{self.reason}")

    def _where(self) -> str:
        if self.place is None:
            return ""
        parts = [f"workflow '{self.place.alias}'"]
        if self.place.input:
            parts.append(self.place.input.render(ENGLISH))
        if self.place.key:
            parts.append(f"key '{self.place.key}'")
        return ", ".join(parts) + ": "


@dataclass(frozen=True)
class WorkflowInput:
    name: str
    kind: str
    node_id: str
    field: str
    required: bool = False
    default: Any | None = None
    min: float | int | None = None
    max: float | int | None = None
    choices: tuple[Any, ...] | None = None
    max_length: int | None = None
    description: str | None = None

    @property
    def is_param(self) -> bool:
        """Set through `params` rather than a /generate option of its own."""
        return self.name not in OPTION_KINDS


FILE, SERVER = "file", "server"  # where an alias comes from


@dataclass(frozen=True)
class Workflow:
    alias: str
    description: str
    cost: int
    timeout: float = DEFAULT_TIMEOUT  # seconds; an int stays an int (as written in the file)
    workflow_id: str | None = None
    webapp_id: str | None = None
    instance_type: str | None = None
    enabled: bool = True
    inputs: tuple[WorkflowInput, ...] = ()
    description_zh: str | None = None
    origin: str = FILE  # FILE: workflows.toml; SERVER: added with /workflow add in one guild
    # Gates (bot/governance/gate.py): only members holding one of `roles` (moderators always),
    # only in `channels` (or their threads), only in age-restricted channels when `nsfw`.
    roles: frozenset[int] = frozenset()
    channels: frozenset[int] = frozenset()
    nsfw: bool = False

    def input(self, name: str) -> WorkflowInput | None:
        for item in self.inputs:
            if item.name == name:
                return item
        return None

    def describe(self, locale: str | None) -> str:
        """The description in the member's language: description_zh for Chinese when there is one."""
        if self.description_zh and str(locale or "").lower().startswith("zh"):
            return self.description_zh
        return self.description

    @property
    def option_inputs(self) -> tuple[WorkflowInput, ...]:
        return tuple(i for i in self.inputs if not i.is_param)

    @property
    def params(self) -> tuple[WorkflowInput, ...]:
        return tuple(i for i in self.inputs if i.is_param)

    @property
    def required_inputs(self) -> tuple[WorkflowInput, ...]:
        return tuple(i for i in self.inputs if i.required)

    @property
    def target(self) -> str:
        """'workflow 123' or 'AI app 456', for operator-facing lines."""
        return f"workflow {self.workflow_id}" if self.workflow_id else f"AI app {self.webapp_id}"

    def summary(self) -> str:
        """Short 'image, image2 · 20 coins' text (at most 100 characters) for autocomplete."""
        needed = [i.name for i in self.option_inputs if i.required]
        optional = [i.name for i in self.option_inputs if not i.required]
        parts = []
        if needed:
            parts.append(", ".join(needed))
        if optional:
            parts.append("optional " + ", ".join(optional))
        price = "free" if self.cost == 0 else f"{self.cost} coin{'s' if self.cost != 1 else ''}"
        text = " · ".join([*parts, price])
        if len(text) > 100:
            text = text[:99].rstrip() + "…"
        return text


@dataclass(frozen=True)
class Override:
    """A server's own cost, enabled and timeout for a file alias (None: the file's value)."""

    cost: int | None = None
    enabled: bool | None = None
    timeout: int | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.cost, self.enabled, self.timeout))

    def apply(self, workflow: Workflow) -> Workflow:
        changes: dict[str, Any] = {
            key: value
            for key, value in (("cost", self.cost), ("enabled", self.enabled), ("timeout", self.timeout))
            if value is not None
        }
        return replace(workflow, **changes) if changes else workflow


class WorkflowView:
    """The aliases one guild sees: the file's (with the guild's overrides) and its own.

    Disabled aliases are kept (for `check` and `/workflow show`) but never served.
    """

    def __init__(self, workflows: Mapping[str, Workflow]) -> None:
        self._workflows = dict(workflows)

    @property
    def workflows(self) -> Mapping[str, Workflow]:
        """Every alias, disabled ones included: the file's in file order, then the server's."""
        return MappingProxyType(self._workflows)

    def __len__(self) -> int:
        return len(self._workflows)

    def __contains__(self, alias: object) -> bool:
        return isinstance(alias, str) and alias.strip().lower() in self._workflows

    def find(self, alias: str) -> Workflow | None:
        """The alias whether enabled or not, or None."""
        return self._workflows.get(alias.strip().lower())

    def get(self, alias: str) -> Workflow:
        workflow = self.find(alias)
        if workflow is None or not workflow.enabled:
            known = ", ".join(w.alias for w in self.all()) or "-"
            raise UserError("workflow.unknown", alias=_echo(alias), known=known)
        return workflow

    def timeout_for(self, alias: str) -> float:
        """A job's timeout: its alias's, or the default once the alias is gone from this view.

        The one rule for every caller (scheduler, poller, notices), so a job whose alias was
        removed while it ran is neither timed out at once nor left running forever.
        """
        workflow = self._workflows.get(alias.strip().lower())
        return float(workflow.timeout if workflow is not None else DEFAULT_TIMEOUT)

    def all(self) -> list[Workflow]:
        return sorted((w for w in self._workflows.values() if w.enabled), key=lambda w: w.alias)

    def search(self, text: str, limit: int = 25) -> list[Workflow]:
        """Enabled aliases matching `text`: alias prefix matches first, then substrings of the
        alias or of either description (so 放大 finds the alias whose Chinese description says it)."""
        needle = text.strip().lower()
        everything = self.all()
        if not needle:
            return everything[:limit]
        prefix = [w for w in everything if w.alias.startswith(needle)]
        rest = [
            w
            for w in everything
            if w not in prefix
            and (
                needle in w.alias
                or needle in w.description.lower()
                or needle in (w.description_zh or "").lower()
            )
        ]
        return (prefix + rest)[:limit]


class WorkflowRegistry:
    """The one registry: workflows.toml's aliases merged with each guild's own aliases and overrides.

    `for_guild(guild_id)` is what /generate, autocomplete, /workflows, re-run and the job loops
    read. The file set is swapped whole by `/workflow reload`; the guild parts change with each
    /workflow add, edit and remove (after the database has them). A guild's alias never shadows a
    file alias of the same name: names are checked on add, and should a later file take the name,
    the file's alias wins (and `check` says so).

    `get`, `all`, `search` and `workflows` without a guild are the file's aliases alone, as the
    command line (which has no guild) sees them.
    """

    def __init__(
        self,
        workflows: Mapping[str, Workflow],
        *,
        server: Mapping[int, Mapping[str, Workflow]] | None = None,
        overrides: Mapping[int, Mapping[str, Override]] | None = None,
    ) -> None:
        self._file = dict(workflows)
        self._server: dict[int, dict[str, Workflow]] = {g: dict(w) for g, w in (server or {}).items()}
        self._overrides: dict[int, dict[str, Override]] = {g: dict(o) for g, o in (overrides or {}).items()}

    # ---- the file

    @property
    def workflows(self) -> Mapping[str, Workflow]:
        """Every alias of the file, disabled ones included, in file order."""
        return MappingProxyType(self._file)

    def __len__(self) -> int:
        return len(self._file)

    def replace_file(self, workflows: Mapping[str, Workflow]) -> None:
        """Swap the file's aliases at once (the caller validated the whole new file first)."""
        self._file = dict(workflows)

    # ---- the guilds

    def for_guild(self, guild_id: int | None) -> WorkflowView:
        if guild_id is None:
            return WorkflowView(self._file)
        overrides = self._overrides.get(guild_id, {})
        merged = {alias: overrides[alias].apply(w) if alias in overrides else w for alias, w in self._file.items()}
        for alias, workflow in self._server.get(guild_id, {}).items():
            merged.setdefault(alias, workflow)
        return WorkflowView(merged)

    def server_aliases(self, guild_id: int) -> Mapping[str, Workflow]:
        return MappingProxyType(self._server.get(guild_id, {}))

    def all_server_aliases(self) -> list[tuple[int, Workflow]]:
        """(guild id, alias) for every guild's own aliases, for `check`."""
        return [(g, w) for g, aliases in sorted(self._server.items()) for w in aliases.values()]

    def override_of(self, guild_id: int, alias: str) -> Override:
        return self._overrides.get(guild_id, {}).get(alias, Override())

    def put_server_alias(self, guild_id: int, workflow: Workflow) -> None:
        self._server.setdefault(guild_id, {})[workflow.alias] = workflow

    def drop_server_alias(self, guild_id: int, alias: str) -> None:
        self._server.get(guild_id, {}).pop(alias, None)

    def put_override(self, guild_id: int, alias: str, override: Override) -> None:
        if override:
            self._overrides.setdefault(guild_id, {})[alias] = override
        else:
            self._overrides.get(guild_id, {}).pop(alias, None)

    # ---- without a guild: the file alone (the command line)

    def get(self, alias: str) -> Workflow:
        return self.for_guild(None).get(alias)

    def all(self) -> list[Workflow]:
        return self.for_guild(None).all()

    def search(self, text: str, limit: int = 25) -> list[Workflow]:
        return self.for_guild(None).search(text, limit)


# ---------------------------------------------------------------------------------------------
# Loading


def load_workflows(path: str | Path) -> WorkflowRegistry:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkflowConfigError(str(path), Msg("wfconfig.file_not_found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkflowConfigError(str(path), Msg("wfconfig.unreadable", {"detail": str(exc)})) from None
    return parse_workflows(text, str(path))


def parse_workflows(text: str, source: str = "workflows.toml") -> WorkflowRegistry:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorkflowConfigError(source, Msg("wfconfig.not_toml", {"detail": str(exc)})) from None
    extra = sorted(set(document) - {"workflows"})
    if extra:
        raise WorkflowConfigError(source, Msg("wfconfig.unknown_top_key", {"key": extra[0]}))
    tables = document.get("workflows")
    if not isinstance(tables, dict) or not tables:
        raise WorkflowConfigError(source, Msg("wfconfig.no_workflows"))
    workflows: dict[str, Workflow] = {}
    for alias, table in tables.items():
        workflows[alias] = _parse_workflow(source, alias, table)
    return WorkflowRegistry(workflows)


def valid_alias(alias: str) -> bool:
    """The naming rule of every alias: 1-32 characters of a-z, 0-9, - and _."""
    return ALIAS_RE.match(alias) is not None


class _Where:
    """Builds the error for a key of one alias (or of one of its inputs)."""

    def __init__(self, source: str, alias: str, input_label: Msg | None = None) -> None:
        self.source = source
        self.alias = alias
        self.input_label = input_label

    def error(self, key: str | None, reason: str, /, **params: Any) -> WorkflowConfigError:
        """`reason` is a wfconfig.* catalog key; `params` its placeholders."""
        return WorkflowConfigError(self.source, Msg(reason, params), Place(self.alias, self.input_label, key))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _digits(where: _Where, key: str, value: Any) -> str:
    if _is_int(value) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not value.strip().isdigit() or not value.strip().isascii():
        raise where.error(key, "wfconfig.digits")
    return value.strip()


def parse_workflow_table(alias: str, table: Any, *, source: str, origin: str = FILE) -> Workflow:
    """One alias from its table (the keys of workflows.toml); WorkflowConfigError names what is wrong.

    The file and the aliases stored by /workflow add go through this same validation.
    """
    return _parse_workflow(source, alias, table, origin)


def _description(where: _Where, key: str, value: Any, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        if required:
            raise where.error(key, "wfconfig.description_required")
        raise where.error(key, "wfconfig.description_empty")
    value = " ".join(value.split())
    if len(value) > MAX_DESCRIPTION:
        raise where.error(key, "wfconfig.description_too_long", maximum=MAX_DESCRIPTION, length=len(value))
    return value


def _parse_workflow(source: str, alias: str, table: Any, origin: str = FILE) -> Workflow:
    where = _Where(source, alias)
    if not ALIAS_RE.match(alias):
        raise where.error(None, "wfconfig.bad_alias")
    if not isinstance(table, dict):
        raise where.error(None, "wfconfig.not_table")
    unknown = sorted(set(table) - _WORKFLOW_KEYS)
    if unknown:
        raise where.error(unknown[0], "wfconfig.unknown_key", expected=", ".join(sorted(_WORKFLOW_KEYS)))

    has_workflow, has_app = "workflow_id" in table, "webapp_id" in table
    if has_workflow == has_app:
        raise where.error("workflow_id", "wfconfig.one_target")
    workflow_id = _digits(where, "workflow_id", table["workflow_id"]) if has_workflow else None
    webapp_id = _digits(where, "webapp_id", table["webapp_id"]) if has_app else None

    description = _description(where, "description", table.get("description"), required=True)
    assert description is not None
    description_zh = _description(where, "description_zh", table.get("description_zh"), required=False)

    if "cost" not in table:
        raise where.error("cost", "wfconfig.cost_required")
    cost = table["cost"]
    if not _is_int(cost) or cost < 0 or cost > MAX_COST:
        raise where.error("cost", "wfconfig.cost_invalid")

    timeout = table.get("timeout", DEFAULT_TIMEOUT)
    if not _is_number(timeout) or timeout <= 0:
        raise where.error("timeout", "wfconfig.timeout_invalid")

    instance_type = table.get("instance_type")
    if instance_type is not None and instance_type not in INSTANCE_TYPES:
        raise where.error("instance_type", "wfconfig.instance_type")

    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise where.error("enabled", "wfconfig.not_bool")

    roles = _snowflakes(where, "roles", table.get("roles", []), Msg("wfconfig.noun.role"))
    channels = _snowflakes(where, "channels", table.get("channels", []), Msg("wfconfig.noun.channel"))
    nsfw = table.get("nsfw", False)
    if not isinstance(nsfw, bool):
        raise where.error("nsfw", "wfconfig.not_bool")

    raw_inputs = table.get("inputs", [])
    if not isinstance(raw_inputs, list) or not all(isinstance(i, dict) for i in raw_inputs):
        raise where.error("inputs", "wfconfig.inputs_not_tables")
    inputs: list[WorkflowInput] = []
    targets: dict[tuple[str, str], str] = {}
    for number, raw in enumerate(raw_inputs, start=1):
        item = _parse_input(source, alias, number, raw)
        if any(i.name == item.name for i in inputs):
            raise _Where(source, alias, _input_label(item.name)).error("name", "wfconfig.input_name_twice")
        target = (item.node_id, item.field)
        if target in targets:
            raise _Where(source, alias, _input_label(item.name)).error(
                "field", "wfconfig.target_taken", node=item.node_id, field=item.field, other=targets[target]
            )
        targets[target] = item.name
        inputs.append(item)

    return Workflow(
        alias=alias,
        description=description,
        cost=cost,
        timeout=timeout,
        workflow_id=workflow_id,
        webapp_id=webapp_id,
        instance_type=instance_type,
        enabled=enabled,
        inputs=tuple(inputs),
        description_zh=description_zh,
        origin=origin,
        roles=roles,
        channels=channels,
        nsfw=nsfw,
    )


def workflow_table(workflow: Workflow) -> dict[str, Any]:
    """The alias as a workflows.toml table: what the database stores for a server alias.

    `parse_workflow_table(alias, workflow_table(w), ...)` gives back an equal Workflow.
    """
    table: dict[str, Any] = {}
    if workflow.workflow_id:
        table["workflow_id"] = workflow.workflow_id
    else:
        table["webapp_id"] = workflow.webapp_id
    table["description"] = workflow.description
    if workflow.description_zh:
        table["description_zh"] = workflow.description_zh
    table["cost"] = workflow.cost
    table["timeout"] = workflow.timeout
    if workflow.instance_type:
        table["instance_type"] = workflow.instance_type
    table["enabled"] = workflow.enabled
    if workflow.roles:
        table["roles"] = [str(r) for r in sorted(workflow.roles)]
    if workflow.channels:
        table["channels"] = [str(c) for c in sorted(workflow.channels)]
    if workflow.nsfw:
        table["nsfw"] = True
    table["inputs"] = [input_table(i) for i in workflow.inputs]
    return table


def input_table(item: WorkflowInput) -> dict[str, Any]:
    """One input as its [[workflows.<alias>.inputs]] table (only the keys that are set)."""
    table: dict[str, Any] = {"name": item.name, "kind": item.kind, "node_id": item.node_id, "field": item.field}
    if item.required:
        table["required"] = True
    for key in ("default", "min", "max", "max_length", "description"):
        value = getattr(item, key)
        if value is not None:
            table[key] = value
    if item.choices is not None:
        table["choices"] = list(item.choices)
    return table


def _snowflakes(where: _Where, key: str, value: Any, what: Msg) -> frozenset[int]:
    """A list of Discord ids as strings (TOML integers lose nothing either, so they are taken too).

    `what` names the kind of id (wfconfig.noun.*) in the reason."""
    if not isinstance(value, list):
        raise where.error(key, "wfconfig.ids_list", what=what)
    ids: set[int] = set()
    for item in value:
        text = str(item).strip() if _is_int(item) or isinstance(item, str) else ""
        # Discord ids are 17-20 digit snowflakes; a name or a mention pasted here would never match.
        if not (text.isascii() and text.isdigit() and 15 <= len(text) <= 20):
            raise where.error(key, "wfconfig.not_an_id", value=repr(item), what=what)
        if int(text) in ids:
            raise where.error(key, "wfconfig.id_twice", what=what, id=text)
        ids.add(int(text))
    return frozenset(ids)


def _input_label(name: str) -> Msg:
    return Msg("wfconfig.input_named", {"name": name})


def _value_fits_kind(kind: str, value: Any) -> bool:
    if kind in ("text", *MEDIA_KINDS):
        return isinstance(value, str)
    if kind == "int":
        return _is_int(value)
    if kind == "float":
        return _is_number(value)
    return isinstance(value, bool)


def _parse_input(source: str, alias: str, number: int, raw: dict[str, Any]) -> WorkflowInput:
    name = raw.get("name")
    label = _input_label(name) if isinstance(name, str) and name else Msg("wfconfig.input_numbered", {"number": number})
    where = _Where(source, alias, label)
    unknown = sorted(set(raw) - _INPUT_KEYS)
    if unknown:
        raise where.error(unknown[0], "wfconfig.unknown_key", expected=", ".join(sorted(_INPUT_KEYS)))
    if not isinstance(name, str) or not _INPUT_NAME_RE.match(name):
        raise where.error("name", "wfconfig.input_name")

    kind = raw.get("kind")
    if kind not in KINDS:
        raise where.error("kind", "wfconfig.kind_unknown", kinds=", ".join(KINDS))
    if name in OPTION_KINDS and kind != OPTION_KINDS[name]:
        raise where.error("kind", "wfconfig.kind_of_option", name=name, kind=OPTION_KINDS[name])
    if name not in OPTION_KINDS and kind in MEDIA_KINDS:
        allowed = ", ".join(o for o, k in OPTION_KINDS.items() if k == kind)
        raise where.error("kind", "wfconfig.media_only_options", kind=kind, allowed=allowed)

    node_id = raw.get("node_id")
    if _is_int(node_id):
        node_id = str(node_id)
    if not isinstance(node_id, str) or not node_id.strip():
        raise where.error("node_id", "wfconfig.node_id")
    field = raw.get("field")
    if not isinstance(field, str) or not field.strip():
        raise where.error("field", "wfconfig.field")

    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise where.error("required", "wfconfig.not_bool")

    minimum, maximum = raw.get("min"), raw.get("max")
    for key, bound in (("min", minimum), ("max", maximum)):
        if bound is None:
            continue
        if kind not in ("int", "float"):
            raise where.error(key, "wfconfig.bounds_kind")
        if kind == "int" and not _is_int(bound):
            raise where.error(key, "wfconfig.bound_int")
        if kind == "float" and not _is_number(bound):
            raise where.error(key, "wfconfig.bound_number")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise where.error("max", "wfconfig.max_below_min", minimum=minimum)

    max_length = raw.get("max_length")
    if max_length is not None:
        if kind != "text":
            raise where.error("max_length", "wfconfig.max_length_kind")
        if not _is_int(max_length) or max_length < 1:
            raise where.error("max_length", "wfconfig.max_length_invalid")
    elif kind == "text":
        max_length = DEFAULT_MAX_LENGTH

    choices = raw.get("choices")
    if choices is not None:
        if kind not in ("text", "int", "float"):
            raise where.error("choices", "wfconfig.choices_kind")
        if not isinstance(choices, list) or not choices:
            raise where.error("choices", "wfconfig.choices_empty")
        if not all(_value_fits_kind(kind, c) for c in choices):
            raise where.error("choices", "wfconfig.choice_kind", kind=kind)
        if kind == "float":
            choices = [float(c) for c in choices]
        if len(set(choices)) != len(choices):
            raise where.error("choices", "wfconfig.choice_twice")
        choices = tuple(choices)

    default = raw.get("default")
    if default is not None:
        if not _value_fits_kind(kind, default):
            raise where.error("default", "wfconfig.value_kind", kind=kind)
        if kind == "float":
            default = float(default)
        if required:
            raise where.error("required", "wfconfig.default_and_required")
        problem = _check_value(kind, default, minimum, maximum, choices, max_length)
        if problem:
            raise where.error("default", problem.key, **problem.params)

    description = raw.get("description")
    if description is not None and not isinstance(description, str):
        raise where.error("description", "wfconfig.description_not_string")

    return WorkflowInput(
        name=name,
        kind=kind,
        node_id=node_id.strip(),
        field=field.strip(),
        required=required,
        default=default,
        min=minimum,
        max=maximum,
        choices=choices,
        max_length=max_length,
        description=description.strip() if description else None,
    )


def _check_value(
    kind: str, value: Any, minimum: Any, maximum: Any, choices: tuple[Any, ...] | None, max_length: int | None
) -> Msg | None:
    """Why a (typed) default does not fit its own limits, or None."""
    if minimum is not None and value < minimum:
        return Msg("wfconfig.below_min", {"value": value, "minimum": minimum})
    if maximum is not None and value > maximum:
        return Msg("wfconfig.above_max", {"value": value, "maximum": maximum})
    if choices is not None and value not in choices:
        return Msg("wfconfig.not_a_choice", {"value": repr(value)})
    if kind == "text" and max_length is not None and len(value) > max_length:
        return Msg("wfconfig.too_long", {"max_length": max_length})
    return None


# ---------------------------------------------------------------------------------------------
# params


def _echo(value: str) -> str:
    """User text for a refusal: one line, cut short."""
    value = " ".join(str(value).split())
    return value if len(value) <= _VALUE_ECHO_LIMIT else value[: _VALUE_ECHO_LIMIT - 1] + "…"


def _format_number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _split_params(text: str) -> list[str]:
    """'seed=42, negative="blurry, ugly"' -> ['seed=42', 'negative=blurry, ugly']."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace += ",，"  # a comma (also the full-width one) separates pairs outside quotes
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:
        quote = max(text.rfind('"'), text.rfind("'"))
        raise UserError("workflow.params_syntax", token=_echo(text[max(quote, 0) :])) from None


def coerce_param(item: WorkflowInput, raw: str) -> Any:
    """Turn the text `raw` into a value of the input's kind, within its limits, or raise UserError."""
    name, kind = item.name, item.kind
    value: Any
    if kind == "int":
        try:
            value = int(raw.strip())
        except ValueError:
            raise UserError("workflow.param_not_int", name=name, value=_echo(raw)) from None
    elif kind == "float":
        try:
            value = float(raw.strip())
        except ValueError:
            raise UserError("workflow.param_not_number", name=name, value=_echo(raw)) from None
        if not math.isfinite(value):
            raise UserError("workflow.param_not_number", name=name, value=_echo(raw))
    elif kind == "bool":
        word = raw.strip().lower()
        if word not in _TRUE_WORDS | _FALSE_WORDS:
            raise UserError("workflow.param_not_bool", name=name, value=_echo(raw))
        value = word in _TRUE_WORDS
    else:
        value = raw

    if item.min is not None and value < item.min:
        raise UserError(
            "workflow.param_too_small", name=name, minimum=_format_number(item.min), value=_echo(raw)
        )
    if item.max is not None and value > item.max:
        raise UserError(
            "workflow.param_too_large", name=name, maximum=_format_number(item.max), value=_echo(raw)
        )
    if item.choices is not None and value not in item.choices:
        shown = ", ".join(_format_number(c) if not isinstance(c, str) else c for c in item.choices)
        raise UserError("workflow.param_not_choice", name=name, choices=shown)
    if kind == "text" and item.max_length is not None and len(value) > item.max_length:
        raise UserError("workflow.param_too_long", name=name, length=len(value), maximum=item.max_length)
    return value


def parse_params(workflow: Workflow, text: str | Sequence[str] | None) -> dict[str, Any]:
    """Read 'seed=42 steps=30' (or ['seed=42', 'steps=30'] from repeated --param) into typed values.

    Only the given parameters are returned; defaults are applied when the request is built.
    """
    if text is None:
        return {}
    pairs = _split_params(text) if isinstance(text, str) else [p for p in text if p.strip()]
    values: dict[str, Any] = {}
    params = {i.name: i for i in workflow.params}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip().lower()
        if not sep or not name:
            raise UserError("workflow.params_syntax", token=_echo(pair))
        if name in OPTION_KINDS:
            raise UserError("workflow.param_is_option", name=name)
        item = params.get(name)
        if item is None:
            if not params:
                raise UserError("workflow.param_none", alias=workflow.alias, name=_echo(name))
            raise UserError(
                "workflow.param_unknown", name=_echo(name), alias=workflow.alias, known=", ".join(params)
            )
        if name in values:
            raise UserError("workflow.param_duplicate", name=name)
        values[name] = coerce_param(item, raw if item.kind == "text" else raw.strip())
    return values
