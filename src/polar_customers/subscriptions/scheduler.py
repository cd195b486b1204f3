"""The scheduler process: passes of `lifecycle.run_due` every few seconds, so that periods
renew and end without a request. `polar-customers serve` starts one beside the workers;
`polar-customers scheduler` runs one on its own (several at once are safe)."""

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from polar_customers.config import Settings
from polar_customers.db import Database
from polar_customers.kit.time import utc_now
from polar_customers.subscriptions import lifecycle

logger = logging.getLogger(__name__)


async def run(settings: Settings, *, interval: float, once: bool = False) -> lifecycle.Pass:
    """Pass after pass, `interval` seconds apart (one pass with `once`); returns the last."""
    database = Database(settings)
    try:
        while True:
            done = await lifecycle.run_due(database.write_sessions, now=utc_now())
            if done.renewed or done.ended or done.failed:
                logger.info(
                    "subscriptions: %d periods renewed, %d ended, %d failed",
                    done.renewed,
                    done.ended,
                    done.failed,
                )
            if once:
                return done
            await asyncio.sleep(interval)
    finally:
        await database.dispose()


@contextmanager
def beside_server(settings: Settings) -> Iterator[None]:
    """A scheduler process for the lifetime of the block (none when the interval is 0)."""
    if settings.scheduler_interval <= 0:
        yield
        return
    process = subprocess.Popen(
        [sys.executable, "-m", "polar_customers", "scheduler", "--beside-server"],
        env={**os.environ},
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
