"""The platform's storage through a pyarrow file system, with a local copy for what needs a path.

DuckDB, Parquet readers and job processes work on local files. On a directory (the default, a
path every machine mounts) the local copy *is* the storage: nothing is copied. On object storage
each machine keeps a cache: :meth:`Storage.fetch` brings a file (or folder) down when the cache
lacks it or holds an older copy, :meth:`Storage.put` sends what was written locally up. Files are
written once under names that say what they hold (a dataset version, a job's output, a release),
so a cached copy that matches the stored object's size and time is that object.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from storage.errors import StorageError, StorageUnavailable

CACHE_DIR = "cache/storage"  # under TDS_HOME, for object storage
# The folders whose cached copies :meth:`Storage.prune` keeps in step with the storage (the
# others under the cache are this machine's working folders: uploads in progress, models).
PRUNED = ("datasets", "previews", "workspaces", "egress", "releases", "ledger")
# Options of an s3:// URI's query string (credentials come from the AWS_* variables, never the
# URI, which shows in logs and process lists).
S3_OPTIONS: dict[str, Any] = {
    "region": str, "scheme": str, "endpoint_override": str, "connect_timeout": float,
    "request_timeout": float,
    "force_virtual_addressing": lambda v: {"true": True, "false": False}[v.lower()],
}


def open_storage(where: str | Path | None, home: Path) -> Storage:
    """The storage ``where`` names: None for ``home`` itself, a directory, or an ``s3://`` URI
    (options such as ``endpoint_override``, ``scheme`` and ``region`` go in its query string;
    credentials come from the usual ``AWS_*`` variables). Object storage is cached under
    ``home``."""
    import pyarrow.fs as pafs  # pyarrow loads when files are touched, not at every `tds` start

    if where is None or "://" not in str(where):
        root = Path(where or home).expanduser().resolve()
        return Storage(pafs.LocalFileSystem(), root.as_posix(), root, remote=False)
    parts = urlsplit(str(where))
    if parts.scheme == "file":
        return open_storage(parts.path, home)
    if parts.scheme != "s3":
        raise StorageError("storage {where!r}: a directory or an s3:// URI is expected", where=where)
    if not parts.netloc:
        raise StorageError("storage {where!r} names no bucket: s3://bucket[/prefix] is expected",
                           where=where)
    options: dict[str, Any] = {}
    retries = 3
    try:
        for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True):
            if key == "retries":
                retries = int(value)
            elif key in S3_OPTIONS:
                options[key] = S3_OPTIONS[key](value)
            else:
                raise ValueError(f"unknown option {key!r} (known: retries, "
                                 f"{', '.join(S3_OPTIONS)})")
        fs = pafs.S3FileSystem(**options, retry_strategy=pafs.AwsStandardS3RetryStrategy(
            max_attempts=max(1, retries)))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise StorageError("storage {where!r} cannot be used: {exc}", where=where, exc=exc) from exc
    base = f"{parts.netloc}/{parts.path.strip('/')}".rstrip("/")
    return Storage(fs, base, home / CACHE_DIR, remote=True, label=f"s3://{base}")


class Storage:
    """Files addressed by relative paths (``datasets/x/v1.parquet``) on a pyarrow file system."""

    def __init__(self, fs: Any, base: str, local: Path, *, remote: bool, label: str = "") -> None:
        self.fs, self.base, self.root, self.remote = fs, base, local, remote
        self.label = label or str(local)

    def __repr__(self) -> str:
        return f"Storage({self.label})"

    # -- addressing ----------------------------------------------------------------------------

    def local(self, relative: str | PurePosixPath) -> Path:
        """The local path of ``relative``: where to write it before :meth:`put`, or where
        :meth:`fetch` brings it. Nothing is checked or copied."""
        return self.root / _checked(relative)

    def relative(self, path: Path) -> str:
        """The storage path of a local path under :attr:`root`."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            raise StorageError("{path} is outside the platform's storage", path=path) from None

    def _key(self, relative: str | PurePosixPath) -> str:
        return f"{self.base}/{_checked(relative)}"

    # -- questions -----------------------------------------------------------------------------

    def check(self) -> None:
        """Raise a clear error unless the storage answers and its bucket exists (``tds init``
        asks before anything is written there)."""
        if not self.remote:
            return
        with _reached(self):
            found = self.fs.get_file_info(self.base.split("/")[0])
        if found.type == _types().NotFound:
            raise StorageError("the bucket of {label} does not exist: create it first",
                               label=self.label)

    def exists(self, relative: str | PurePosixPath) -> bool:
        return self._info(relative).type != _types().NotFound

    def files(self, relative: str | PurePosixPath) -> list[str]:
        """The files under folder ``relative`` (recursively), as storage paths; none if absent."""
        pafs = _fs()
        info = self._info(relative)
        if info.type != pafs.FileType.Directory:
            return []
        with _reached(self):
            found = self.fs.get_file_info(pafs.FileSelector(self._key(relative), recursive=True))
        prefix = len(self.base) + 1
        return sorted(i.path[prefix:] for i in found if i.type == pafs.FileType.File)

    def folders(self, relative: str | PurePosixPath) -> dict[str, float]:
        """The folders directly under ``relative``, each with the last time anything in it was
        written (seconds since the epoch)."""
        pafs = _fs()
        key = self._key(relative)
        with _reached(self):
            listed = self.fs.get_file_info(
                pafs.FileSelector(key, recursive=True, allow_not_found=True))
        found: dict[str, float] = {}
        for info in listed:
            head, _, rest = info.path[len(key) + 1:].partition("/")
            if rest or info.type == pafs.FileType.Directory:
                folder = f"{_checked(relative)}/{head}"
                found[folder] = max(found.get(folder, 0.0), (info.mtime_ns or 0) / 1e9)
        return found

    def _info(self, relative: str | PurePosixPath) -> Any:
        with _reached(self):
            return self.fs.get_file_info(self._key(relative))

    # -- moving files --------------------------------------------------------------------------

    def fetch(self, relative: str | PurePosixPath) -> Path:
        """The local path of ``relative`` (a file or a folder), brought down first if this
        machine's copy is missing or older. FileNotFoundError if the storage has no such path."""
        target = self.local(relative)
        if not self.remote:
            if not target.exists():
                raise FileNotFoundError(f"{relative} is not in the platform's storage")
            return target
        pafs = _fs()
        info = self._info(relative)
        if info.type == pafs.FileType.NotFound:
            raise FileNotFoundError(f"{relative} is not in the platform's storage")
        if info.type == pafs.FileType.File:
            self._download(info, target)
            return target
        with _reached(self):
            listed = self.fs.get_file_info(pafs.FileSelector(info.path, recursive=True))
        target.mkdir(parents=True, exist_ok=True)
        for item in listed:
            if item.type == pafs.FileType.File:
                self._download(item, self.root / item.path[len(self.base) + 1:])
        return target

    def put(self, relative: str | PurePosixPath) -> None:
        """Store what was written at :meth:`local` ``(relative)`` (a file or a folder)."""
        if not self.remote:
            return
        source = self.local(relative)
        files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
        for path in files:
            key = self._key(self.relative(path))
            with _reached(self):
                with path.open("rb") as data, self.fs.open_output_stream(key) as out:
                    shutil.copyfileobj(data, out, 1 << 20)
                self._stamp(path, self.fs.get_file_info(key))

    def remove(self, relative: str | PurePosixPath) -> None:
        """Delete a file or a folder from the storage (and this machine's copy); a missing one
        is not an error."""
        pafs = _fs()
        try:
            info = self._info(relative)
            with _reached(self):
                if info.type == pafs.FileType.Directory:
                    self.fs.delete_dir(info.path)
                elif info.type == pafs.FileType.File:
                    self.fs.delete_file(info.path)
        finally:  # this machine's copy goes even when the object storage is out of reach
            local = self.local(relative)
            if self.remote and local.is_dir():
                shutil.rmtree(local, ignore_errors=True)
            elif self.remote:
                local.unlink(missing_ok=True)

    def prune(self, settle_seconds: float = 600.0) -> list[str]:
        """Drop this machine's cached copies of objects that are gone from the storage (and
        everything cached of a workspace that is gone, its stage included), so that no machine
        keeps data the platform deleted on another. Files written in the last
        ``settle_seconds`` may still be on their way up and are left for the next round.
        Returns the storage paths dropped."""
        if not self.remote or not self.root.is_dir():
            return []
        pafs = _fs()
        with _reached(self):
            listed = self.fs.get_file_info(
                pafs.FileSelector(self.base, recursive=True, allow_not_found=True))
        stored = {i.path[len(self.base) + 1:] for i in listed if i.type == pafs.FileType.File}
        workspaces = {"/".join(path.split("/")[:2]) for path in stored
                      if path.startswith("workspaces/")}
        cutoff = time.time() - settle_seconds
        dropped = []
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root).as_posix()
            top = relative.split("/")[0]
            if not path.is_file() or top not in PRUNED or path.stat().st_mtime > cutoff:
                continue
            if top == "workspaces":
                gone = "/".join(relative.split("/")[:2]) not in workspaces
            else:
                gone = relative not in stored
            if gone:
                path.unlink(missing_ok=True)
                dropped.append(relative)
        return dropped

    def _download(self, info: Any, target: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            stat = target.stat()
            if stat.st_size == info.size and stat.st_mtime_ns == info.mtime_ns:
                return  # this machine has it already
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, _reached(self), \
                    self.fs.open_input_stream(info.path) as data:
                shutil.copyfileobj(data, out, 1 << 20)
            self._stamp(Path(tmp), info)
            os.replace(tmp, target)  # readers of an older copy keep theirs
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def _stamp(path: Path, info: Any) -> None:
        # The object's time on the local copy: the next fetch knows the copy is current.
        os.utime(path, ns=(info.mtime_ns, info.mtime_ns))


def _checked(relative: str | PurePosixPath) -> str:
    text = str(relative).replace(os.sep, "/")
    path = PurePosixPath(text)
    if path.is_absolute() or ".." in path.parts or not path.parts or "\x00" in text:
        raise StorageError("{relative!r} is not a path inside the platform's storage",
                           relative=relative)
    return path.as_posix()


def _fs() -> Any:
    import pyarrow.fs as pafs

    return pafs


def _types() -> Any:
    return _fs().FileType


@contextlib.contextmanager
def _reached(storage: Storage):
    """Object storage that fails to answer becomes a clear, retryable error."""
    if not storage.remote:
        yield
        return
    try:
        yield
    except FileNotFoundError:
        raise
    except OSError as exc:
        if "NoSuchKey" in str(exc) or "Path does not exist" in str(exc):
            raise FileNotFoundError(str(exc)) from exc
        raise StorageUnavailable(
            "the platform's object storage ({label}) did not answer: {exc}",
            label=storage.label, exc=exc) from exc
