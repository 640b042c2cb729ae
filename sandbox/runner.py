"""What runs in a job process (``python -m sandbox.child``).

Started ahead of time (warm, with DuckDB and Arrow imported), it reads exactly one job spec as
a JSON line on stdin, stages the granted columns, caps its own address space, builds the locked
connection, runs the gated SELECT and writes ``result.json`` in its working directory, then
exits. It never sees the store or its credentials: the process running it records the outcome.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import duckdb  # noqa: F401  (imported before the spec arrives: a warm process starts jobs fast)
import pyarrow  # noqa: F401

from policies import parse_size
from sandbox import engine, functions, gate
from sandbox.errors import JobFailed, JobTimedOut, SandboxError, storage_error
from sandbox.spec import OUTPUT_NAME, RESULT_NAME


def _limit(which: int, value: int) -> None:
    _soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, hard))


def apply_limits(settings: dict[str, Any]) -> None:
    """Hard limits of the job process: address space, no core dumps, file sizes."""
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_AS, parse_size(settings["address_space_limit"]))
    biggest = max(int(settings["max_result_bytes"]),
                  parse_size(settings["max_temp_directory_size"], allow_zero=True))
    # A write past the limit fails with EFBIG instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _limit(resource.RLIMIT_FSIZE, biggest + 64 * 1024 * 1024)


def _local_copy(source: Path, name: Path) -> Path:
    """The stage under a neutral name in the job's own directory. DuckDB lists the files and
    directories it may still open once external access is off (``allowed_paths``): they must
    name nothing of the host but this throwaway directory. A stage folder (encrypted) is
    linked file by file: a newer stage replacing it leaves this job its files."""
    if source.is_dir():
        name.mkdir()
        for item in source.iterdir():
            _local_copy(item, name / item.name)
        return name
    try:
        os.link(source, name)
    except OSError:  # another file system: copy it
        shutil.copyfile(source, name)
    return name


class Warm:
    """What a job process prepares before its job arrives: the parser, a connection and the
    de-identification functions (whose key is only known with the job)."""

    def __init__(self) -> None:
        gate.check("SELECT 1", 100)
        self.key = b""
        self.con = engine.new_connection()
        functions.register(self.con, lambda: self.key)
        # Arrow datasets (encrypted stages, earlier outputs) load pandas: about 0.2 s of CPU
        # that a spare spends once it has waited a while, not a job's. A job that arrives
        # first stops it (one that needs them then imports them itself, or waits for the
        # import under way: Python's import lock sees to that).
        self.busy = threading.Event()
        threading.Thread(target=self._import_when_idle, name="tds-warm-imports",
                         daemon=True).start()

    def _import_when_idle(self, after: float = 1.0) -> None:
        if self.busy.wait(after):
            return
        import pyarrow.dataset
        import pyarrow.parquet.encryption  # noqa: F401


def execute(spec: dict[str, Any], workdir: Path, warm: Warm | None = None) -> dict[str, Any]:
    """Run the job ``spec`` with ``workdir`` as working directory; return its outcome."""
    settings = spec["settings"]
    exposures = [engine.Exposure.from_dict(raw) for raw in spec["tables"]]
    key = bytes.fromhex(spec["pseudonym_key"])
    # The grant's data key when its real data is encrypted at rest: the stage, the output.
    grant_key = bytes.fromhex(spec["grant_key"]) if spec.get("grant_key") else None
    # ... in memory, its stage is DuckDB's own file (decrypted, never on a disk); elsewhere a
    # folder of Parquet files encrypted with the grant's key.
    stage_key = None if spec.get("stage_in_memory") else grant_key
    warm = warm or Warm()
    warm.key = key
    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = round((now - mark) * 1000, 1)
        mark = now

    try:
        gate.authorize(spec["sql"], {e.name for e in exposures}, settings,
                       spec.get("target", "simulated"))
        lap("gate")
        stage_file = engine.stage(Path(spec["stage_dir"]), exposures,
                                  bytes.fromhex(spec["stage_key"]),
                                  {k: bytes.fromhex(v)
                                   for k, v in spec.get("consent_keys", {}).items()},
                                  stage_key) \
            if spec.get("stage_dir") else None
        os.chdir(workdir)
        if stage_file is not None:
            stage_file = _local_copy(stage_file, Path(
                engine.STAGE_ALIAS + ("" if stage_file.is_dir() else ".duckdb")))
        for e in exposures:
            if e.native:
                os.symlink(e.path, engine.native_link(e))
        lap("stage")
        apply_limits(settings)
        output = workdir / OUTPUT_NAME if spec["keep_output"] else None
        con = engine.lock(warm.con, exposures, stage_file, settings, output, stage_key)
        lap("lockdown")
        try:
            result = engine.run_select(con, spec["sql"], output, settings,
                                       int(spec.get("show_rows", 0)), grant_key)
        finally:
            con.close()
        lap("query")
    except JobTimedOut as exc:
        return {"status": "timed_out", "error": exc.message, "error_class": exc.error_class}
    except JobFailed as exc:
        return {"status": "failed", "error": exc.message, "error_class": exc.error_class,
                "disclosive": exc.disclosive}
    except SandboxError as exc:
        return {"status": "failed", "error": exc.message, "error_class": "refused"}
    except MemoryError:
        return {"status": "failed", "error": "the job ran out of memory (the policy's "
                f"address_space_limit is {settings['address_space_limit']})",
                "error_class": "memory"}
    except OSError as exc:
        return {"status": "failed", "error_class": "storage",
                "error": storage_error(exc, "the job could not write its result")}
    return {
        "status": "succeeded", "rows": result.rows, "bytes": result.bytes,
        "schema": [{"name": f.name, "type": str(f.type)} for f in result.schema],
        "columns": result.schema.names, "shown": result.shown, "phases_ms": phases,
    }


def scrub(outcome: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """Remove host paths from the outcome's message."""
    if outcome.get("error"):
        message = outcome["error"]
        for path in sorted(filter(None, paths), key=len, reverse=True):
            message = message.replace(path, "<workspace>")
        outcome["error"] = message
    return outcome


def watch_parent(parent: int, every: float = 0.5) -> None:
    """End this job the moment its worker dies (kill -9 included): a job nobody records must not
    run on, using the machine and writing an output no one will look after."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(137)

    threading.Thread(target=watch, name="tds-parent-watch", daemon=True).start()


def main() -> int:
    parent = os.getppid()
    warm = Warm()
    line = sys.stdin.readline()
    warm.busy.set()
    if not line:
        return 0  # a warm process that was never given a job
    watch_parent(parent)
    started = time.perf_counter()
    spec = json.loads(line)
    workdir = Path(spec["workdir"])
    paths = [str(workdir), spec.get("stage_dir") or "", spec.get("home") or ""] + \
        [t["path"] for t in spec["tables"]]
    try:
        outcome = execute(spec, workdir, warm)
    except Exception as exc:  # a defect of ours: report it, never leave the job without an end
        traceback.print_exc()
        outcome = {"status": "failed", "error": f"the sandbox failed ({type(exc).__name__})",
                   "error_class": "internal"}
    outcome = scrub(outcome, paths)
    outcome["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    text = json.dumps(outcome, ensure_ascii=False, default=str)
    tmp = workdir / (RESULT_NAME + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, workdir / RESULT_NAME)
    return 0


def exit_now(code: int) -> None:
    """End the process without the interpreter's teardown (a few hundred milliseconds of
    freeing DuckDB's and Arrow's memory): everything it wrote is closed already."""
    sys.stderr.flush()
    os._exit(code)
