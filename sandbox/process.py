"""One job process: started warm, given one spec, watched, killed when it must stop."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sandbox.errors import JobTimedOut
from sandbox.spec import RESULT_NAME

# DuckDB stops a query at the policy's time limit itself; killing the process this much later
# is the backstop for a process that no longer answers.
KILL_GRACE_SECONDS = 5.0


def _environment() -> dict[str, str]:
    # The job process gets nothing of the parent's environment (database URL, key passphrase)
    # beyond what Python needs to find the product's modules.
    env = {"PATH": os.defpath, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONNOUSERSITE": "1",
           # numpy is imported (DuckDB's Python functions need it) but does no linear algebra
           # here: OpenBLAS would start a thread per core on import, a third of the start's CPU.
           "OPENBLAS_NUM_THREADS": "1",
           # Arrow's allocator for encrypted stages and outputs: under the job's address-space
           # limit, mimalloc (the default) ran its scans a third slower than jemalloc.
           "ARROW_DEFAULT_MEMORY_POOL": "jemalloc"}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


class JobProcess:
    """A warm ``python -m sandbox.child`` waiting for its one job, at scheduling priority
    ``nice`` (the policy's ``sandbox.job_nice``): jobs are batch work, and the API and console
    beside them on the same machine should answer first."""

    def __init__(self, nice: int = 0) -> None:
        # Its error output goes to an unnamed file, never to a pipe that could fill and block it.
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the process)
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "sandbox.child"], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=self.stderr, env=_environment(), cwd="/",
            # Its own process group, so a kill reaches DuckDB's threads too; but not its own
            # session: Linux schedules each session as one group ("autogroup") and weighs nice
            # values only inside it, so a job in a session of its own would take as much CPU as
            # the API's whole session, whatever its nice value.
            process_group=0,
        )
        if nice:
            # Set from here, at once, rather than by the job itself: DuckDB's threads, started
            # later, inherit it, and the job has no say over it.
            with contextlib.suppress(ProcessLookupError):
                os.setpriority(os.PRIO_PROCESS, self.popen.pid,
                               max(nice, os.getpriority(os.PRIO_PROCESS, 0)))
        self.workdir: Path | None = None
        self.started = 0.0

    def start(self, spec: dict[str, Any]) -> None:
        """Hand the job to the process (the working directory must exist and be empty)."""
        self.workdir = Path(spec["workdir"])
        self.started = time.monotonic()
        assert self.popen.stdin is not None
        self.popen.stdin.write((json.dumps(spec, ensure_ascii=False) + "\n").encode())
        self.popen.stdin.close()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started if self.started else 0.0

    def done(self) -> bool:
        return self.popen.poll() is not None

    def kill(self) -> None:
        """Stop the process and everything it started, at once."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        self._close()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the process ends; False if it still runs after ``timeout`` seconds."""
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def outcome(self) -> dict[str, Any]:
        """What the ended process reported, or why it ended without a report."""
        self.popen.wait()
        stderr = self._close()
        result = self.workdir / RESULT_NAME if self.workdir else None
        if result is not None and result.exists():
            return json.loads(result.read_text(encoding="utf-8"))
        code = self.popen.returncode
        if code < 0:
            name = signal.Signals(-code).name
            why = "it was killed (out of memory?)" if name == "SIGKILL" else f"it crashed ({name})"
        else:
            why = f"it exited with status {code}"
        if "MemoryError" in stderr or "std::bad_alloc" in stderr:
            why = "it ran out of memory"
        return {"status": "failed", "error": f"the job process ended without a result: {why}",
                "error_class": "memory" if "memory" in why else "crashed"}

    def _close(self) -> str:
        text = ""
        if not self.stderr.closed:
            self.stderr.seek(0)
            text = self.stderr.read()[-4000:].decode(errors="replace")
            self.stderr.close()
        if self.popen.stdin is not None and not self.popen.stdin.closed:
            self.popen.stdin.close()
        return text


class WarmSpares:
    """Warm job processes kept ready for the next jobs (of the local pool, or of the
    distributed engine's deliveries): a job then does not wait for Python, DuckDB and Arrow to
    load. :meth:`refill` is called as soon as a job takes one, so the next process warms while
    the job runs; a ready process blocks on its input and uses no CPU."""

    def __init__(self, keep: int, nice: int = 0) -> None:
        self.keep, self.nice = keep, nice
        self._lock = threading.Lock()
        self._ready: list[JobProcess] = []
        self._closed = False

    def __len__(self) -> int:
        """How many processes are ready."""
        with self._lock:
            return len(self._ready)

    def take(self) -> JobProcess:
        """A warm process if one is ready, else a new one."""
        with self._lock:
            while self._ready:
                process = self._ready.pop()
                if not process.done():
                    return process
                process.kill()  # it ended by itself: reap it
        return JobProcess(self.nice)

    def refill(self) -> None:
        """Start processes until ``keep`` are ready; reap those that ended by themselves."""
        with self._lock:
            for process in [p for p in self._ready if p.done()]:
                process.kill()
                self._ready.remove(process)
            missing = 0 if self._closed else self.keep - len(self._ready)
            for _ in range(missing):
                self._ready.append(JobProcess(self.nice))

    def close(self) -> None:
        """Stop the ready processes; none is started after."""
        with self._lock:
            self._closed = True
            ready, self._ready = self._ready, []
        for process in ready:
            process.kill()


def hard_limit(settings: dict[str, Any]) -> float:
    """Seconds after which a job process is killed, whatever it is doing."""
    return float(settings["max_execution_seconds"]) + KILL_GRACE_SECONDS


def timed_out(settings: dict[str, Any]) -> dict[str, Any]:
    """The outcome of a job process killed at :func:`hard_limit`."""
    return {"status": "timed_out",
            "error": JobTimedOut.after(settings["max_execution_seconds"]).message}


def run_once(spec: dict[str, Any], process: JobProcess | None = None) -> dict[str, Any]:
    """Run one spec in ``process`` (started earlier to warm while the spec was made) or a
    fresh job process, and wait for its outcome (``tds sandbox run``)."""
    process = process or JobProcess(int(spec["settings"]["job_nice"]))
    process.start(spec)
    if not process.wait(hard_limit(spec["settings"])):
        process.kill()
        return timed_out(spec["settings"])
    return process.outcome()
