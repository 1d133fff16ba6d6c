"""The word between `livewell run` and the children it starts while migrations run.

The supervisor gives each such child the read end of a pipe, named in `MIGRATED_FD`, writes
"go" on it once every database is migrated, then closes it; `livewell serve` waits for that
word before serving. Both sides read the name here, so neither imports the other.
"""

from __future__ import annotations

import os

MIGRATED_FD = "LIVEWELL_MIGRATED_FD"


def wait_for_migrations() -> None:
    """Under `livewell run`: block until the supervisor says every database is migrated, and
    never serve if it does not (migrations failed, or the supervisor died)."""
    fd = os.environ.pop(MIGRATED_FD, None)
    if fd is None:
        return
    said = b""
    while chunk := os.read(int(fd), 64):
        said += chunk
    os.close(int(fd))
    if said != b"go":
        raise SystemExit("livewell serve: the databases were not migrated; not serving")
