"""The RunningHub webhook receiver: answers at once, then wakes the poller for that task.

RunningHub documents no signature, so the secret is the last path segment of the URL it is
given; any other path gets a 404 and changes nothing. Duplicate deliveries are harmless: the
poller re-checks the task through `/task/openapi/outputs` and every transition is compare-and-set.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

OnTaskEnd = Callable[[str, int | None], Awaitable[None]]


class WebhookReceiver:
    def __init__(self, secret: str, on_task_end: OnTaskEnd, spawn: Callable[[Awaitable[None], str], None]) -> None:
        self._secret = secret
        self._on_task_end = on_task_end
        self.spawn = spawn
        self.received = 0
        self.app = web.Application(client_max_size=4 * 1024 * 1024)
        self.app.router.add_post("/{tail:.*}", self.handle)
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        return "WebhookReceiver(secret=[redacted])"

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        log.info("webhook receiver listening on %s:%s", host, port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def handle(self, request: web.Request) -> web.Response:
        last_segment = request.path.rstrip("/").rsplit("/", 1)[-1]
        if not hmac.compare_digest(last_segment.encode(), self._secret.encode()):
            return web.Response(status=404)
        try:
            payload = json.loads(await request.text())
            task_id = str(payload["taskId"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"ok": False, "error": "expected a JSON body with taskId"}, status=400)
        job_param = request.query.get("job", "")
        job_id = int(job_param) if job_param.isdigit() else None
        self.received += 1
        log.info("webhook %s for task %s (job %s)", payload.get("event"), task_id, job_id)
        # Answer now; the work happens in the background (slow answers make RunningHub retry).
        self.spawn(self._on_task_end(task_id, job_id), f"webhook-{task_id}")
        return web.json_response({"ok": True})
