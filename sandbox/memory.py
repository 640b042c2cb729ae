"""Where real jobs of grants encrypted at rest work: a memory file system, never a disk.

A grant whose files are encrypted at rest keeps its stage (the granted columns copied into a
DuckDB database: the fastest form to query) decrypted only in memory, under the policy's
``[sandbox] memory_dir`` (a tmpfs such as /dev/shm); the job's own directory (its spill files
and its output before encryption) is made there too. Nothing decrypted reaches a disk. A stage
in memory is rebuilt from the encrypted datasets when missing (after a restart), and dropped
by every worker of the machine once its grant is no longer active.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Grant
from policies import Policy

HOME_MARKER = "home"


def root(policy: Policy) -> Path | None:
    """This machine's private folder (0700) in the memory file system; None when the policy
    names none or it cannot be used."""
    base = policy.sandbox.memory_dir
    if not base or not os.path.isdir(base) or not os.access(base, os.W_OK | os.X_OK):
        return None
    # Named by a digest of the user, not its number: a job's DuckDB can list its own
    # directory's path, which need not tell the user the platform runs as.
    user = hashlib.sha256(f"tds-user-{os.getuid()}".encode()).hexdigest()[:12]
    folder = Path(base) / f"tds-{user}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _stages(policy: Policy, home: Path) -> Path | None:
    # One folder per platform home: two homes on a machine (a server and a demo) have grants
    # with the same ids.
    base = root(policy)
    tag = hashlib.sha256(str(Path(home).resolve()).encode()).hexdigest()[:16]
    return None if base is None else base / f"stages-{tag}"


def stage_dir(policy: Policy, home: Path, grant_id: int, name: str) -> Path | None:
    """The memory folder of one of a grant's stages on the platform whose local files are
    under ``home`` (None: no memory file system)."""
    folder = _stages(policy, home)
    if folder is None:
        return None
    marker = folder / HOME_MARKER
    if not marker.exists():  # which home the folder serves: a vanished home's goes (orphans)
        folder.mkdir(parents=True, exist_ok=True)
        marker.write_text(str(Path(home).resolve()), encoding="utf-8")
    return folder / str(grant_id) / name


def orphans(policy: Policy) -> list[Path]:
    """Drop the stage folders of homes that no longer exist on this machine; what went."""
    base = root(policy)
    removed = []
    for folder in base.glob("stages-*") if base is not None else []:
        try:
            home = Path((folder / HOME_MARKER).read_text(encoding="utf-8"))
        except OSError:  # no marker yet: a folder being made now, or one long abandoned
            home = None if time.time() - folder.stat().st_mtime > 60 else folder
        if home is None or not home.exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def prune(session: Session, policy: Policy, home: Path) -> list[int]:
    """Drop the stages in memory of grants that are no longer active (revoked, expired);
    returns their grant ids. Every worker calls it as it claims: a grant that ended on
    another machine loses its decrypted copies here too."""
    folder = _stages(policy, home)
    if folder is None or not folder.is_dir():
        return []
    held = {int(p.name): p for p in folder.iterdir() if p.name.isdigit()}
    if not held:
        return []
    active = set(session.scalars(select(Grant.id).where(Grant.id.in_(held),
                                                        Grant.status == "active")))
    dropped = []
    for grant_id, path in held.items():
        if grant_id not in active:
            shutil.rmtree(path, ignore_errors=True)
            dropped.append(grant_id)
    return dropped


def forget(policy: Policy, home: Path) -> None:
    """Drop every stage in memory of the platform whose local files are under ``home`` (a
    home being removed: a test's, a benchmark's)."""
    folder = _stages(policy, home)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
