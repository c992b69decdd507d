"""Random keys the server makes once and keeps in its data dir (mode 0600), so they survive restarts."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)


def kept_key(path: Path, lost: str, unkept: str, unkept_level: int = logging.WARNING) -> str:
    """The key kept at `path`, made (and written atomically) when missing, empty or unreadable.

    A replaced key is logged with `lost` (what the old key's holders lose); a key that cannot be written
    is logged at `unkept_level` with `unkept` (what that costs), and lives as long as the process.
    """
    try:
        value = path.read_text(encoding="ascii").strip()
        if len(value) >= 16:
            return value
        log.warning("%s was empty or damaged: made a new key (%s)", path, lost)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        log.warning("%s was unreadable (%s): made a new key (%s)", path, type(exc).__name__, lost)
    value = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value)
        tmp.replace(path)
    except OSError as exc:
        log.log(unkept_level, "cannot keep the key in %s (%s): %s", path, exc, unkept)
    return value
