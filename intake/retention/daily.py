"""The daily retention run inside the server: an asyncio task whose work runs in a thread.

Each case is anonymised in a short write transaction of its own, so requests are held up
no longer than by any other write. Switched off by INTAKE_RETENTION_DAILY=false (the tests
do, unless one of them turns it on).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread

from intake.retention import service

log = logging.getLogger(__name__)
DAY_SECONDS = 24 * 60 * 60


def run_once(app: Any) -> service.RunReport:
    """One retention run with the application's sessions (in a worker thread)."""
    with app.state.session_factory() as db:
        return service.run(db=db, settings=app.state.settings)


async def _every_day(app: Any, first_delay: float) -> None:
    await asyncio.sleep(first_delay)
    while True:
        try:
            report = await to_thread.run_sync(run_once, app)
            log.info("retention: anonymised %s of %s case(s)", report.anonymised, report.due)
        except Exception:
            # Logged without data (ids and figures only); tomorrow's run tries again.
            log.exception("retention run failed")
        await asyncio.sleep(DAY_SECONDS)


@asynccontextmanager
async def daily_runs(app: Any, *, first_delay: float = 60.0) -> AsyncIterator[None]:
    """While the server lives, run retention a minute after start and then once a day."""
    if not app.state.settings.retention_daily:
        yield
        return
    task = asyncio.create_task(_every_day(app, first_delay))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
