"""Run folders under ``--out``: their names, their staging, and which ones are published.

The one place that knows the layout (runner, outputs, web and flows all ask here)::

    <out>/<before>_<after>_<key8>[-N]/run.json ...   a published run folder
    <out>/.staging-<name>.<host>-<pid>/               being written by process <pid> on <host>

A run folder is written under a hidden staging name and renamed into place when whole
(:mod:`pipeline.outputs`); only folders with a visible name and a ``run.json`` are published.
A staging folder left by a process that is gone (a kill, a full disk) is stale: the next run
into the same ``--out`` removes it, and nothing ever serves one. Cluster workers on several
machines stage into one shared ``--out``: a process judges the folders of its own host by
process id, and another host's folder only once untouched for :data:`FOREIGN_STALE_HOURS`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

STAGING_PREFIX = ".staging-"
RUN_DOC = "run.json"
FOREIGN_STALE_HOURS = 24.0
"""Hours after which another host's staging folder, untouched, is taken for stale."""
_OWNER = re.compile(r"^(?P<host>[A-Za-z0-9_-]*)-(?P<pid>\d+)$")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "_", socket.gethostname()) or "host"


def run_name(before: date, after: date, pair_key: str) -> str:
    """``<before>_<after>_<key8>``: the folder name of a compared pair."""
    return f"{before:%Y%m%d}_{after:%Y%m%d}_{pair_key[:8]}"


def staging_path(out_dir: Path, name: str) -> Path:
    """The hidden folder this process writes run ``name`` into before publishing it."""
    return out_dir / f"{STAGING_PREFIX}{name}.{_host()}-{os.getpid()}"


def is_published(folder: Path) -> bool:
    """A visible folder holding a ``run.json``: whole, safe to read and serve."""
    return not folder.name.startswith(".") and (folder / RUN_DOC).is_file()


def run_folders(out_dir: Path | None) -> Iterator[Path]:
    """The published run folders under ``out_dir`` (never a staging folder)."""
    if out_dir is None or not out_dir.is_dir():
        return
    for p in sorted(out_dir.iterdir()):
        if p.is_dir() and is_published(p):
            yield p


def folder_pair_key(folder: Path) -> str | None:
    """The ``pair_key`` a run folder's ``run.json`` names (None when unreadable)."""
    try:
        doc = json.loads((folder / RUN_DOC).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    key = doc.get("pair_key") if isinstance(doc, dict) else None
    return str(key) if key else None


def published_for(out_dir: Path, name: str, pair_key: str) -> Path | None:
    """The published folder ``name`` (or ``name-N``) that holds run ``pair_key``, if any."""
    for p in run_folders(out_dir):
        if (p.name == name or p.name.startswith(f"{name}-")) and folder_pair_key(p) == pair_key:
            return p
    return None


def free_name(out_dir: Path, name: str) -> Path:
    """``out_dir/name``, or ``name-2``, ``name-3``... when taken (a folder is never overwritten)."""
    target, n = out_dir / name, 2
    while target.exists():
        target = out_dir / f"{name}-{n}"
        n += 1
    return target


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_staging(out_dir: Path) -> list[Path]:
    """Staging folders under ``out_dir`` whose writing process is gone (see the module docstring)."""
    if not out_dir.is_dir():
        return []
    stale, here = [], _host()
    for p in out_dir.iterdir():
        if not (p.is_dir() and p.name.startswith(STAGING_PREFIX)):
            continue
        owner = p.name.rsplit(".", 1)[-1]
        match = _OWNER.match(owner)
        if match is not None and match["host"] != here:
            try:
                idle = time.time() - p.stat().st_mtime
            except OSError:
                continue
            if idle > FOREIGN_STALE_HOURS * 3600:
                stale.append(p)
            continue
        pid = match["pid"] if match is not None else owner  # ``.<pid>``: written before hosts
        if not pid.isdigit() or not _alive(int(pid)):
            stale.append(p)
    return sorted(stale)


def clean_stale(out_dir: Path) -> list[Path]:
    """Remove the stale staging folders under ``out_dir``; returns those removed."""
    removed = stale_staging(out_dir)
    for p in removed:
        shutil.rmtree(p, ignore_errors=True)
    return removed
