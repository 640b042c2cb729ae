"""The job process: ``python -m sandbox.runner``.

Started ahead of time (warm, with DuckDB and Arrow imported), it reads exactly one job spec as
a JSON line on stdin, stages the granted columns, caps its own address space, builds the locked
connection, runs the gated SELECT and writes ``result.json`` in its working directory, then
exits. It never sees the store or its credentials: the process running it records the outcome.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

import duckdb  # noqa: F401  (imported before the spec arrives: a warm process starts jobs fast)
import pyarrow  # noqa: F401

from policies import parse_size
from sandbox import engine, gate
from sandbox.errors import JobTimedOut, SandboxError

RESULT_NAME = "result.json"
OUTPUT_NAME = "output.parquet"


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


def execute(spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run the job ``spec`` with ``workdir`` as working directory; return its outcome."""
    settings = spec["settings"]
    exposures = [engine.Exposure.from_dict(raw) for raw in spec["tables"]]
    key = bytes.fromhex(spec["pseudonym_key"])
    try:
        gate.authorize(spec["sql"], {e.name for e in exposures}, settings)
        stage_file = engine.stage(Path(spec["stage_dir"]), exposures, key) \
            if spec.get("stage_dir") else None
        apply_limits(settings)
        os.chdir(workdir)
        con = engine.locked_connection(exposures, stage_file, settings, key)
        try:
            result = engine.run_select(con, spec["sql"], workdir / OUTPUT_NAME if spec["keep_output"]
                                       else None, settings, int(spec.get("show_rows", 0)))
        finally:
            con.close()
    except JobTimedOut as exc:
        return {"status": "timed_out", "error": exc.message}
    except SandboxError as exc:
        return {"status": "failed", "error": exc.message}
    except MemoryError:
        return {"status": "failed", "error": "the job ran out of memory (the policy's "
                f"address_space_limit is {settings['address_space_limit']})"}
    except OSError as exc:
        return {"status": "failed", "error": f"the job could not write its result ({exc.strerror})"}
    return {
        "status": "succeeded", "rows": result.rows, "bytes": result.bytes,
        "schema": [{"name": f.name, "type": str(f.type)} for f in result.schema],
        "columns": result.schema.names, "shown": result.shown,
    }


def scrub(outcome: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """Remove host paths from the outcome's message."""
    if outcome.get("error"):
        message = outcome["error"]
        for path in sorted(filter(None, paths), key=len, reverse=True):
            message = message.replace(path, "<workspace>")
        outcome["error"] = message
    return outcome


def main() -> int:
    line = sys.stdin.readline()
    if not line:
        return 0  # a warm process that was never given a job
    spec = json.loads(line)
    workdir = Path(spec["workdir"])
    paths = [str(workdir), spec.get("stage_dir") or "", spec.get("home") or ""] + \
        [t["path"] for t in spec["tables"]]
    try:
        outcome = execute(spec, workdir)
    except Exception as exc:  # a defect of ours: report it, never leave the job without an end
        traceback.print_exc()
        outcome = {"status": "failed", "error": f"the sandbox failed ({type(exc).__name__})"}
    outcome = scrub(outcome, paths)
    text = json.dumps(outcome, ensure_ascii=False, default=str)
    tmp = workdir / (RESULT_NAME + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, workdir / RESULT_NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
