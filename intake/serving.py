"""How many server processes `intake serve` starts."""

from __future__ import annotations

import os

from intake.config import Settings


def default_workers(settings: Settings) -> int:
    """One process for SQLite (its one writer is ordered inside a process), one per
    core for PostgreSQL (each process has its own pool of `worker_threads` connections,
    so workers x worker_threads must stay within the server's max_connections)."""
    if settings.database_url.startswith("sqlite"):
        return 1
    return max(1, os.cpu_count() or 1)
