"""The secret that keys the event chain, kept outside the database.

Events are chained with HMAC-SHA256 under this key, so someone who can write the database but
not read the key can neither forge an event nor re-hash the chain after an edit. The key is
``$LANDPATROL_LEDGER_KEY`` (any text), else the key file ``$LANDPATROL_LEDGER_KEY_FILE``
(default ``~/.config/landpatrol/ledger.key``, or under ``$XDG_CONFIG_HOME``), created on first
use with 32 random bytes (hex) and mode 0600. Every machine that writes or verifies a ledger
needs the same key: copy the file (or set the variable) to the others; keep a backup, since
events signed with a lost key can no longer be verified.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pipeline import settings
from pipeline.errors import ConfigError

#: ``events.scheme`` of an HMAC-SHA256 event: ``hmac-sha256:<key id>``; NULL means plain sha256
HMAC_SCHEME = "hmac-sha256"


@dataclass(frozen=True)
class LedgerKey:
    secret: bytes
    source: str  # where it came from, for messages

    @property
    def key_id(self) -> str:
        """A short public fingerprint of the key (names which key signed an event)."""
        return hashlib.sha256(b"landpatrol-ledger-key:" + self.secret).hexdigest()[:16]

    @property
    def scheme(self) -> str:
        return f"{HMAC_SCHEME}:{self.key_id}"

    def sign(self, payload: str) -> str:
        return hmac.new(self.secret, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def _read_file(path: Path) -> LedgerKey:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"ledger key file cannot be read ({exc})") from None
    if len(text) < 32:
        raise ConfigError(path, "ledger key file holds fewer than 32 characters")
    return LedgerKey(text.encode("utf-8"), str(path))


def find_key() -> LedgerKey | None:
    """The configured key, or ``None`` when there is none yet (nothing is created)."""
    env = settings.load()
    if env.ledger_key:
        return LedgerKey(env.ledger_key.encode("utf-8"), settings.LEDGER_KEY_ENV)
    path = env.key_file
    return _read_file(path) if path.is_file() else None


def ledger_key() -> LedgerKey:
    """The configured key, creating the key file (0600) on first use."""
    found = find_key()
    if found is not None:
        return found
    path = settings.load().key_file
    # written whole to a temporary beside it, then published by a hard link, which fails if the
    # name exists: a process starting at the same moment sees no key file or a whole one, never
    # an empty one, and every process ends up with the key that was published first
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:  # another process published its key a moment ago: use that one
            pass
    except OSError as exc:
        raise ConfigError(path, f"ledger key file cannot be created ({exc.strerror})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return _read_file(path)
