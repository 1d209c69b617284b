"""Message components and modals: Discord's validation, what a member sees, and what they send back.

Limits follow Discord's component reference: action rows hold up to 5 buttons or one select; string
selects offer 1-25 options (label, value, description each 1-100 chars); modals have a title of at
most 45 chars and 1-5 top-level components; text inputs take up to 4000 chars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fakediscord.model import invalid_form

ACTION_ROW = 1
BUTTON = 2
STRING_SELECT = 3
TEXT_INPUT = 4
USER_SELECT, ROLE_SELECT, MENTIONABLE_SELECT, CHANNEL_SELECT = 5, 6, 7, 8
TEXT_DISPLAY = 10
LABEL = 18
SELECTS = (STRING_SELECT, USER_SELECT, ROLE_SELECT, MENTIONABLE_SELECT, CHANNEL_SELECT)


def _length(where: str, value: Any, low: int, high: int) -> None:
    text = "" if value is None else str(value)
    if not low <= len(text) <= high:
        raise invalid_form(where, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def _custom_id(where: str, item: dict[str, Any]) -> None:
    _length(f"{where}.custom_id", item.get("custom_id"), 1, 100)


def _range(where: str, value: Any, low: int, high: int) -> None:
    if value is not None and not low <= int(value) <= high:
        raise invalid_form(where, "NUMBER_TYPE_MAX" if int(value) > high else "NUMBER_TYPE_MIN", f"{low}..{high}")


# ---------------------------------------------------------------------- validation


def validate_select(where: str, select: dict[str, Any]) -> None:
    _custom_id(where, select)
    if select.get("placeholder") is not None:
        _length(f"{where}.placeholder", select["placeholder"], 0, 150)
    _range(f"{where}.min_values", select.get("min_values"), 0, 25)
    _range(f"{where}.max_values", select.get("max_values"), 1, 25)
    if select.get("type") != STRING_SELECT:
        return
    options = select.get("options") or []
    if not 1 <= len(options) <= 25:
        raise invalid_form(f"{where}.options", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
    values: set[str] = set()
    for index, option in enumerate(options):
        here = f"{where}.options.{index}"
        _length(f"{here}.label", option.get("label"), 1, 100)
        _length(f"{here}.value", option.get("value"), 1, 100)
        if option.get("description") is not None:
            _length(f"{here}.description", option["description"], 0, 100)
        if option["value"] in values:
            raise invalid_form(f"{here}.value", "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED", "Duplicate value")
        values.add(option["value"])
    if int(select.get("max_values", 1)) > len(options) or int(select.get("min_values", 1)) > len(options):
        raise invalid_form(f"{where}.max_values", "BASE_TYPE_MAX", "More values than options")


def validate_message_components(components: list[dict[str, Any]]) -> None:
    """Legacy message layouts: top-level action rows of buttons or one select (v2 layouts pass through)."""
    for index, row in enumerate(components):
        where = f"components.{index}"
        if row.get("type") != ACTION_ROW:
            continue  # Components V2 (sections, containers...) are not modelled; accepted as sent.
        children = row.get("components") or []
        if not 1 <= len(children) <= 5:
            raise invalid_form(f"{where}.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
        selects = [c for c in children if c.get("type") in SELECTS]
        if selects and len(children) > 1:
            raise invalid_form(f"{where}.components", "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "Layout width exceeded")
        for position, child in enumerate(children):
            here = f"{where}.components.{position}"
            if child.get("type") in SELECTS:
                validate_select(here, child)
            elif child.get("type") == BUTTON:
                if child.get("label") is not None:
                    _length(f"{here}.label", child["label"], 0, 80)
                if child.get("style") != 5 and child.get("style") != 6:  # link and premium buttons have no id
                    _custom_id(here, child)
            else:
                raise invalid_form(f"{here}.type", "COMPONENT_TYPE_INVALID", "Invalid component type")


def validate_text_input(where: str, item: dict[str, Any], *, needs_label: bool) -> None:
    _custom_id(where, item)
    if item.get("style") not in (1, 2):
        raise invalid_form(f"{where}.style", "BASE_TYPE_CHOICES", "Value must be one of (1, 2).")
    if needs_label:
        _length(f"{where}.label", item.get("label"), 1, 45)
    _range(f"{where}.min_length", item.get("min_length"), 0, 4000)
    _range(f"{where}.max_length", item.get("max_length"), 1, 4000)
    if item.get("value") is not None:
        _length(f"{where}.value", item["value"], 0, 4000)
    if item.get("placeholder") is not None:
        _length(f"{where}.placeholder", item["placeholder"], 0, 100)
    low, high = int(item.get("min_length") or 0), int(item.get("max_length") or 4000)
    if low > high:
        raise invalid_form(f"{where}.min_length", "BASE_TYPE_BAD_LENGTH", "min_length exceeds max_length")


def validate_modal(data: dict[str, Any]) -> None:
    """Interaction response type 9's `data`."""
    _length("data.custom_id", data.get("custom_id"), 1, 100)
    _length("data.title", data.get("title"), 1, 45)
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        raise invalid_form("data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    seen: set[str] = set()
    for index, top in enumerate(components):
        where = f"data.components.{index}"
        kind = top.get("type")
        if kind == ACTION_ROW:
            children = top.get("components") or []
            if len(children) != 1 or children[0].get("type") != TEXT_INPUT:
                raise invalid_form(where, "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "A modal row holds one text input")
            field_item, needs_label = children[0], True
        elif kind == LABEL:
            _length(f"{where}.label", top.get("label"), 1, 45)
            if top.get("description") is not None:
                _length(f"{where}.description", top["description"], 0, 100)
            field_item, needs_label = top.get("component") or {}, False
        elif kind == TEXT_DISPLAY:
            continue
        else:
            raise invalid_form(f"{where}.type", "COMPONENT_TYPE_INVALID", "Invalid component type for a modal")
        if field_item.get("type") == TEXT_INPUT:
            validate_text_input(f"{where}.component", field_item, needs_label=needs_label)
        elif field_item.get("type") in SELECTS:
            validate_select(f"{where}.component", field_item)
        else:
            raise invalid_form(f"{where}.component.type", "COMPONENT_TYPE_INVALID", "Invalid component type")
        if field_item["custom_id"] in seen:
            raise invalid_form(where, "COMPONENT_CUSTOM_ID_DUPLICATED", "Duplicate custom_id")
        seen.add(field_item["custom_id"])


# ---------------------------------------------------------------------- what the member sees


@dataclass(frozen=True)
class ModalField:
    """One input of a modal as shown: a text input (kind 4) or a string select (kind 3)."""

    custom_id: str
    kind: int
    label: str
    required: bool
    value: str | None = None  # text inputs: the pre-filled text
    style: int = 1  # text inputs: 1 short, 2 paragraph
    min_length: int = 0
    max_length: int = 4000
    placeholder: str | None = None
    options: tuple[dict[str, Any], ...] = ()  # selects
    min_values: int = 1
    max_values: int = 1


@dataclass(frozen=True)
class ShownModal:
    """The modal a bot answered an interaction with (callback type 9)."""

    custom_id: str
    title: str
    fields: tuple[ModalField, ...]
    raw: dict[str, Any]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ShownModal:
        fields = []
        for top in data.get("components") or []:
            if top.get("type") == ACTION_ROW:
                item, label = top["components"][0], top["components"][0].get("label", "")
            elif top.get("type") == LABEL:
                item, label = top["component"], top.get("label", "")
            else:
                continue
            if item.get("type") == TEXT_INPUT:
                fields.append(
                    ModalField(
                        custom_id=item["custom_id"],
                        kind=TEXT_INPUT,
                        label=label,
                        required=item.get("required", True),
                        value=item.get("value"),
                        style=item.get("style", 1),
                        min_length=int(item.get("min_length") or 0),
                        max_length=int(item.get("max_length") or 4000),
                        placeholder=item.get("placeholder"),
                    )
                )
            else:
                fields.append(
                    ModalField(
                        custom_id=item["custom_id"],
                        kind=item.get("type", STRING_SELECT),
                        label=label,
                        required=item.get("required", True),
                        placeholder=item.get("placeholder"),
                        options=tuple(item.get("options") or ()),
                        min_values=int(item.get("min_values", 1)),
                        max_values=int(item.get("max_values", 1)),
                    )
                )
        return cls(data["custom_id"], data["title"], tuple(fields), data)

    def field(self, custom_id: str) -> ModalField:
        for item in self.fields:
            if item.custom_id == custom_id:
                return item
        raise KeyError(f"the modal has no field {custom_id!r}; it has {[f.custom_id for f in self.fields]}")

    @property
    def prefilled(self) -> dict[str, str | None]:
        return {f.custom_id: f.value for f in self.fields if f.kind == TEXT_INPUT}

    def submission(self, values: dict[str, str | list[str]]) -> list[dict[str, Any]]:
        """The MODAL_SUBMIT `data.components` Discord sends: same layout, each input with the member's
        value. Unset text inputs submit their pre-filled text, as the client would. Raises ValueError
        for what Discord's client would not let the member submit."""
        unknown = set(values) - {f.custom_id for f in self.fields}
        if unknown:
            raise ValueError(f"the modal has no fields {sorted(unknown)}")
        answers: dict[str, dict[str, Any]] = {}
        for item in self.fields:
            given = values.get(item.custom_id)
            if item.kind == TEXT_INPUT:
                text = str(given if given is not None else item.value or "")
                if item.required and not text:
                    raise ValueError(f"{item.custom_id!r} is required")
                low = max(item.min_length, 1 if item.required else 0)
                if text and not low <= len(text) <= item.max_length:
                    raise ValueError(f"{item.custom_id!r} must be {low}-{item.max_length} characters")
                answers[item.custom_id] = {"type": TEXT_INPUT, "custom_id": item.custom_id, "value": text}
            else:
                chosen = [given] if isinstance(given, str) else list(given or [])
                check_choice(item.custom_id, item.options, chosen, item.min_values, item.max_values, item.required)
                answers[item.custom_id] = {"type": item.kind, "custom_id": item.custom_id, "values": chosen}
        layout = []
        for index, top in enumerate(self.raw.get("components") or []):
            component_id = top.get("id", index + 1)
            if top.get("type") == ACTION_ROW:
                answer = answers[top["components"][0]["custom_id"]]
                inner_id = top["components"][0].get("id", component_id + 100)
                layout.append({"type": ACTION_ROW, "id": component_id, "components": [{**answer, "id": inner_id}]})
            elif top.get("type") == LABEL:
                answer = answers[top["component"]["custom_id"]]
                inner_id = top["component"].get("id", component_id + 100)
                layout.append({"type": LABEL, "id": component_id, "component": {**answer, "id": inner_id}})
            elif top.get("type") == TEXT_DISPLAY:
                layout.append({"type": TEXT_DISPLAY, "id": component_id})
        return layout


@dataclass(frozen=True)
class SelectMenu:
    """A string select on a message as the member sees it."""

    custom_id: str
    options: tuple[dict[str, Any], ...]
    min_values: int
    max_values: int
    placeholder: str | None
    disabled: bool

    @property
    def values(self) -> list[str]:
        return [o["value"] for o in self.options]

    @property
    def labels(self) -> list[str]:
        return [o["label"] for o in self.options]

    @property
    def defaults(self) -> list[str]:
        return [o["value"] for o in self.options if o.get("default")]


def find_selects(components: list[dict[str, Any]]) -> list[SelectMenu]:
    """Every string select in a message's components, in order (rows and v2 containers alike)."""
    found: list[SelectMenu] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("type") == STRING_SELECT:
                found.append(
                    SelectMenu(
                        custom_id=item["custom_id"],
                        options=tuple(item.get("options") or ()),
                        min_values=int(item.get("min_values", 1)),
                        max_values=int(item.get("max_values", 1)),
                        placeholder=item.get("placeholder"),
                        disabled=bool(item.get("disabled", False)),
                    )
                )
            for key in ("components", "accessory", "component"):
                child = item.get(key)
                if isinstance(child, list):
                    walk(child)
                elif isinstance(child, dict):
                    walk([child])

    walk(components)
    return found


def check_choice(
    custom_id: str,
    options: tuple[dict[str, Any], ...],
    chosen: list[str],
    min_values: int,
    max_values: int,
    required: bool = True,
) -> None:
    """What Discord's client enforces when a member picks from a select."""
    offered = {o["value"] for o in options}
    strays = [v for v in chosen if v not in offered]
    if strays:
        raise ValueError(f"select {custom_id!r} does not offer {strays}; it offers {sorted(offered)}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"select {custom_id!r}: a value can be picked once")
    low = min_values if required else 0
    if not (low <= len(chosen) <= max_values):
        raise ValueError(f"select {custom_id!r} takes {min_values}-{max_values} values, not {len(chosen)}")


__all__ = [
    "ModalField",
    "SelectMenu",
    "ShownModal",
    "check_choice",
    "find_selects",
    "validate_message_components",
    "validate_modal",
]
