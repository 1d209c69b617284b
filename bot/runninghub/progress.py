"""A task's progress, read from RunningHub's websocket (`netWssUrl`, ComfyUI's messages).

RunningHub's own docs call the socket unstable, so nothing here is relied on for a job's outcome:
`read_progress` yields what it learns and stops (with `ProgressLost`) on any trouble -- refused,
closed early, silent for too long. Polling `/outputs` stays the source of truth.

ComfyUI's messages (JSON text frames; binary frames are previews and are skipped):
- `execution_start`, `execution_cached {nodes}`, `executing {node}` (node null: the run ended),
- `progress {value, max, node}` (steps of the node at work), `executed {node}`,
- `execution_success`, `execution_error {node_id, node_type, exception_message}`,
  `execution_interrupted`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 15.0  # seconds to open the socket
IDLE_TIMEOUT = 120.0  # seconds without a message before the socket is given up as silent
MAX_MESSAGE_BYTES = 1024 * 1024  # previews can be large; a text message never is
_RUNNING_CAP = 99.0  # a run shows 100 % only once ComfyUI says it succeeded


@dataclass(frozen=True)
class Progress:
    """What the status message shows of a running task. Every field may be unknown (None)."""

    percent: float | None  # 0-100, the whole run's share done when the graph is known
    node_id: str | None = None  # the node at work
    node_class: str | None = None  # its class_type (KSampler), when the workflow or message says
    value: int | None = None  # steps of the node at work, e.g. 12 of 20
    maximum: int | None = None
    finished: bool = False  # ComfyUI reported the end (success, error or interruption)


class ProgressLost(Exception):
    """The socket failed, closed before the run ended, or fell silent."""


@dataclass
class ProgressTracker:
    """Turns ComfyUI messages into `Progress` values. `node_classes`: node id -> class_type."""

    node_classes: Mapping[str, str] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    current: str | None = None
    value: int | None = None
    maximum: int | None = None
    finished: bool = False
    failed: bool = False
    last: Progress | None = None

    def feed(self, raw: str | bytes) -> Progress | None:
        """One text frame; the new Progress when it changed what is known, else None. Never raises."""
        try:
            message = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(message, dict) or not isinstance(message.get("data"), dict):
            return None
        kind, data = message.get("type"), message["data"]
        if kind == "execution_cached":
            nodes = data.get("nodes")
            if isinstance(nodes, list):
                self.done.update(str(n) for n in nodes)
        elif kind == "executing":
            node = data.get("node")
            if self.current is not None:
                self.done.add(self.current)
            if node is None:  # ComfyUI's "the run ended"
                self.current, self.finished = None, True
            else:
                self.current, self.value, self.maximum = str(node), None, None
        elif kind == "progress":
            value, maximum = _int(data.get("value")), _int(data.get("max"))
            if value is None or maximum is None or maximum <= 0:
                return None
            node = data.get("node")
            if node is not None and str(node) != self.current:
                if self.current is not None:
                    self.done.add(self.current)
                self.current = str(node)
            self.value, self.maximum = max(0, min(value, maximum)), maximum
        elif kind == "executed":
            node = data.get("node")
            if node is not None:
                self.done.add(str(node))
        elif kind in ("execution_success", "execution_error", "execution_interrupted"):
            self.finished = True
            self.failed = kind != "execution_success"
            node = data.get("node_id")
            if kind == "execution_error" and node is not None:
                self.current = str(node)
                node_type = data.get("node_type")
                if isinstance(node_type, str) and node_type and self.current not in self.node_classes:
                    self.node_classes = {**self.node_classes, self.current: node_type}
        else:
            return None
        progress = self._progress(success=self.finished and not self.failed)
        if progress == self.last:
            return None
        self.last = progress
        return progress

    def _progress(self, *, success: bool) -> Progress:
        step = self.value / self.maximum if self.value is not None and self.maximum else 0.0
        total = len(self.node_classes)
        percent: float | None
        if success:
            percent = 100.0
        elif total:
            busy = self.current is not None and self.current not in self.done
            done = len(self.done & set(self.node_classes)) + (step if busy else 0.0)
            percent = min(_RUNNING_CAP, 100.0 * done / total)
        elif self.maximum:
            percent = min(_RUNNING_CAP, 100.0 * step)  # the graph is unknown: the node's own steps
        else:
            percent = None
        return Progress(
            percent=percent,
            node_id=self.current,
            node_class=self.node_classes.get(self.current) if self.current else None,
            value=self.value,
            maximum=self.maximum,
            finished=self.finished,
        )


async def read_progress(
    session: aiohttp.ClientSession,
    url: str,
    *,
    node_classes: Mapping[str, str] | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
    idle_timeout: float = IDLE_TIMEOUT,
    **connect_options: Any,
) -> AsyncIterator[Progress]:
    """Yield the task's progress until ComfyUI reports the end; ProgressLost on any trouble.

    `session` is the RunningHub client's, so its proxy and connector apply. `connect_options`
    go to `ws_connect` (e.g. `proxy`). The URL may carry credentials: it is never logged whole.
    """
    tracker = ProgressTracker(dict(node_classes or {}))
    where = urlsplit(url).netloc or "?"
    try:
        async with asyncio.timeout(connect_timeout):
            ws = await session.ws_connect(url, max_msg_size=MAX_MESSAGE_BYTES, **connect_options)
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
        raise ProgressLost(f"progress socket at {where} not opened: {_describe(exc, url)}") from None
    try:
        while True:
            try:
                message = await asyncio.wait_for(ws.receive(), idle_timeout)
            except TimeoutError:
                raise ProgressLost(f"progress socket at {where} silent for {idle_timeout:g} s") from None
            if message.type == aiohttp.WSMsgType.TEXT:
                update = tracker.feed(message.data)
                if update is not None:
                    yield update
                if tracker.finished:
                    return
            elif message.type == aiohttp.WSMsgType.BINARY:
                continue  # a preview image
            else:  # CLOSE, CLOSING, CLOSED, ERROR
                raise ProgressLost(f"progress socket at {where} closed before the run ended")
    except (aiohttp.ClientError, OSError) as exc:
        raise ProgressLost(f"progress socket at {where} failed: {_describe(exc, url)}") from None
    finally:
        await ws.close()


def node_classes_of(workflow: Mapping[str, Any]) -> dict[str, str]:
    """node id -> class_type from a workflow in ComfyUI's API format."""
    return {
        str(node_id): str(node["class_type"])
        for node_id, node in workflow.items()
        if isinstance(node, Mapping) and isinstance(node.get("class_type"), str)
    }


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _describe(exc: BaseException, url: str) -> str:
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"handshake answered HTTP {exc.status}"
    text = str(exc).replace(url, "<netWssUrl>")[:200]  # the URL may carry a token
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
