"""The distributed job engine against a real PostgreSQL and real `tds worker` processes."""

from __future__ import annotations

import collections
import os
import signal
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from lineage import LedgerEvent, verify_ledger
from sandbox import jobs, memory
from sandbox.models import Job
from tests.conftest import BACKEND
from tests.helpers import read_stored, set_policy
from tests.workers.cluster import grants, make_cluster, restart_postgresql, submit, wait_until

pytestmark = pytest.mark.skipif(BACKEND != "postgresql",
                                reason="the distributed engine runs on PostgreSQL")

COUNT = "SELECT district, count(*) AS n FROM visits GROUP BY district"


@pytest.fixture
def cluster(home, tmp_path):
    made = make_cluster(home, tmp_path)
    yield made
    made.stop()


def statuses(home) -> collections.Counter:
    with home.store.read() as s:
        return collections.Counter(s.scalars(select(Job.status)))


def job_events(home, action: str) -> collections.Counter:
    with home.store.read() as s:
        return collections.Counter(s.scalars(select(LedgerEvent.subject).where(
            LedgerEvent.action == action)))


def deliveries(home) -> list[tuple]:
    with home.store.read() as s:
        return list(s.execute(text("SELECT status, args->>'job_id' FROM procrastinate_jobs "
                                   "WHERE task_name = 'tds.run_job'")))


def test_a_job_and_its_delivery_commit_together(cluster, people, visits_file):
    home = cluster.home
    (grant,) = grants(cluster, people, visits_file, 1)
    job_id = submit(home, people.merchant, grant, COUNT, "first")
    with home.store.read() as s:
        job = s.get(Job, job_id)
        assert job.dispatch_id is not None
        row = s.execute(text("SELECT status, lock, args->>'job_id' FROM procrastinate_jobs "
                             "WHERE id = :id"), {"id": job.dispatch_id}).one()
    assert row == ("todo", f"tds-workspace-{grant}", str(job_id))
    # A refused submission leaves no delivery behind.
    with pytest.raises(RuntimeError), home.store.transaction() as s:
        jobs.submit(s, people.merchant, home.policy, home.data, grant, COUNT, "second")
        raise RuntimeError("the caller fails after submitting")
    assert len(deliveries(home)) == 1


def test_four_workers_drain_40_jobs_exactly_once(cluster, people, visits_file):
    home = cluster.home
    workspaces = grants(cluster, people, visits_file, 8)
    queued = [submit(home, people.merchant, workspaces[i % 8], COUNT, f"out{i}")
              for i in range(40)]
    for index in range(4):
        cluster.start_worker(index)
    wait_until(lambda: statuses(home).get("succeeded", 0) == 40, 600, "40 succeeded jobs")
    assert statuses(home) == {"succeeded": 40}
    # Each job ran once: one running event and one success each, nothing requeued.
    assert set(job_events(home, "job.running").values()) == {1}
    assert len(job_events(home, "job.running")) == 40
    assert set(job_events(home, "job.succeeded").values()) == {1}
    assert not job_events(home, "job.requeued")
    with home.store.read() as s:
        ran_by = set(s.scalars(select(Job.worker)))
        assert all(s.get(Job, j).attempts == 1 for j in queued)
        # The outputs are on the shared storage, where every machine reads them.
        for job in s.scalars(select(Job)):
            assert home.data.local(job.output_path).exists()
    assert len(ran_by) == 4, "every worker took jobs"
    with home.store.read() as s:
        assert verify_ledger(s, home.genesis_public_key, home.witness_path, home.origin).valid


def test_workers_on_object_storage_share_their_files_through_the_bucket(
        home, tmp_path, s3_uri, people, visits_file):
    """Two workers, each with a TDS_HOME and a cache of its own, and the data in an S3 bucket:
    each job reads the output of the job before it, though another machine made it."""
    cluster = make_cluster(home, tmp_path, s3_uri)
    try:
        (grant,) = grants(cluster, people, visits_file, 1)
        chain: list[int] = []
        for step in range(6):
            if step in (0, 3):  # the first machine runs three steps, the second the others
                if cluster.workers:
                    cluster.stop()
                cluster.start_worker(step // 3)
            sql = COUNT if step == 0 else f"SELECT district, n + 1 AS n FROM step{step - 1}"
            chain.append(submit(home, people.merchant, grant, sql, f"step{step}"))
            wait_until(lambda done=step + 1: statuses(home).get("succeeded", 0) == done, 120,
                       f"step {step}:\n" + cluster.log(0) + cluster.log(1))
    finally:
        cluster.stop()
    with home.store.read() as s:
        done = [s.get(Job, j) for j in chain]
        assert len({j.worker for j in done[:3]} | {j.worker for j in done[3:]}) == 2
        paths = [j.output_path for j in done]
    assert paths == [f"workspaces/{grant}/outputs/step{i}.parquet" for i in range(6)]
    assert home.data.files(f"workspaces/{grant}") == sorted(paths)
    for index in range(2):  # each worker machine holds a cache, not the storage
        cached = cluster.worker_home(index) / "cache" / "storage"
        assert (cached / "datasets" / "visits" / "v1.parquet").exists()
        assert not (cluster.worker_home(index) / "datasets" / "visits").exists()
    # The last step's input came down a chain that crossed machines.
    last = read_stored(home, paths[-1]).to_pydict()
    first = read_stored(home, paths[0]).to_pydict()
    assert sorted(last["n"]) == sorted(n + 5 for n in first["n"])


def test_kill_9_of_a_worker_mid_job_requeues_it_and_it_runs_once(cluster, people, visits_file):
    home = cluster.home
    set_policy(home, lease_seconds="6", recover_cron='"* * * * * */2"')
    (grant,) = grants(cluster, people, visits_file, 1)
    slow = "SELECT sum(r.range * visits.fee) AS s FROM visits, range(12000000) r"  # ~8 s
    job_id = submit(home, people.merchant, grant, slow, "slow")
    victim = cluster.start_worker(0)

    def running() -> bool:
        with home.store.read() as s:
            return s.get(Job, job_id).status == "running"

    wait_until(running, 60, "the job to run")
    wait_until(lambda: _runners_of(victim.pid), 10, "the job process")
    runners = _runners_of(victim.pid)
    time.sleep(3)  # the query is under way (a job process takes a second or two to start)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    # A real job of a grant encrypted at rest works in the memory file system.
    places = [Path(tempfile.gettempdir()), memory.root(home.policy)]
    left = [p for place in places if place is not None
            for p in place.glob(f"tds-job{job_id}-p{victim.pid}-*")]
    assert left, "the killed worker left its job's directory"
    # Its job processes end by themselves: nobody would record what they do.
    # (well before its query would have ended)
    wait_until(lambda: all(_gone(pid) for pid in runners), 3, "the orphaned job process to end")
    cluster.start_worker(1)
    wait_until(lambda: not any(p.exists() for p in left), 60,
               "the next worker on this host to remove the dead one's job directory")
    wait_until(lambda: statuses(home).get("succeeded") == 1, 240,
               "the job to be recovered and succeed:\n" + cluster.log(1))
    with home.store.read() as s:
        job = s.get(Job, job_id)
        assert job.attempts == 2 and job.status == "succeeded"
        actions = list(s.scalars(select(LedgerEvent.action).where(
            LedgerEvent.subject == f"job:{job_id}").order_by(LedgerEvent.seq)))
        assert actions == ["job.queued", "job.running", "job.requeued", "job.running",
                           "job.succeeded"]
        assert verify_ledger(s, home.genesis_public_key, home.witness_path, home.origin).valid
        # The dead worker's delivery no longer holds the workspace's lock. (Periodic tasks,
        # every 2 s here, may be under way on the live worker: only job deliveries count.)
        assert s.scalar(text("SELECT count(*) FROM procrastinate_jobs "
                             "WHERE status = 'doing' AND lock = :lock"),
                        {"lock": f"tds-workspace-{grant}"}) == 0


def _runners_of(worker: int) -> list[int]:
    """Job processes (python -m sandbox.child) the worker process ``worker`` started."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            status = (proc / "status").read_text()
            if (f"PPid:\t{worker}\n" in status
                    and b"sandbox.child" in (proc / "cmdline").read_bytes()):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _gone(pid: int) -> bool:
    try:
        return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def test_cancel_withdraws_the_delivery(cluster, people, visits_file):
    home = cluster.home
    (grant,) = grants(cluster, people, visits_file, 1)
    job_id = submit(home, people.merchant, grant, COUNT, "never")
    with home.store.transaction() as s:
        jobs.cancel(s, people.merchant, job_id)
    assert deliveries(home) == [("cancelled", str(job_id))]
    assert statuses(home) == {"cancelled": 1}


def test_periodic_tasks_sweep_expire_and_copy_the_witness(cluster, people, visits_file):
    home = cluster.home
    (grant,) = grants(cluster, people, visits_file, 1)
    set_policy(home, grant_expiry_cron='"* * * * * */3"', witness_cron='"* * * * * */3"')
    with home.store.transaction() as s:
        s.execute(text("UPDATE catalog_grants SET expires_at = now() - interval '1 day' "
                       "WHERE id = :id"), {"id": grant})
    cluster.start_worker(0)
    witness = cluster.worker_home(0) / "ledger" / "ledger-checkpoints.jsonl"

    def expired() -> bool:
        with home.store.read() as s:
            return s.scalar(select(func.count()).select_from(LedgerEvent).where(
                LedgerEvent.action == "grant.expired")) == 1

    wait_until(expired, 60, "the grant to expire:\n" + cluster.log(0))
    wait_until(lambda: witness.exists() and witness.read_text().count("\n") >= 3, 60,
               "the witness copy")
    with home.store.read() as s:
        # The worker's copy alone witnesses every checkpoint of the database.
        result = verify_ledger(s, home.genesis_public_key, witness, home.origin)
    assert result.valid, result.problems


def test_a_stopped_worker_gives_its_running_job_back(cluster, people, visits_file):
    home = cluster.home
    (grant,) = grants(cluster, people, visits_file, 1)
    slow = "SELECT sum(r.range * visits.fee) AS s FROM visits, range(12000000) r"
    job_id = submit(home, people.merchant, grant, slow, "slow")
    stopped = cluster.start_worker(0)

    def status() -> str:
        with home.store.read() as s:
            return s.get(Job, job_id).status

    wait_until(lambda: status() == "running", 60, "the job to run")
    stopped.send_signal(signal.SIGTERM)
    assert stopped.wait(30) == 0
    with home.store.read() as s:
        job = s.get(Job, job_id)
        # Queued again at once, the interrupted attempt not counted, with a new delivery.
        assert job.status == "queued" and job.attempts == 0
        assert s.scalar(text("SELECT status FROM procrastinate_jobs WHERE id = :id"),
                        {"id": job.dispatch_id}) == "todo"
    cluster.start_worker(1)
    wait_until(lambda: status() == "succeeded", 120, "another worker to run it")
    assert job_events(home, "job.requeued") == {f"job:{job_id}": 1}


def test_a_worker_goes_on_through_a_postgresql_restart(cluster, people, visits_file):
    home = cluster.home
    (grant,) = grants(cluster, people, visits_file, 1)
    worker = cluster.start_worker(0)
    before = submit(home, people.merchant, grant, COUNT, "before")
    wait_until(lambda: statuses(home).get("succeeded") == 1, 120, "the first job")
    restart_postgresql()

    def submitted() -> int | None:
        try:
            return submit(home, people.merchant, grant, COUNT, "after")
        except Exception:  # the server is still starting: a client retries
            time.sleep(0.5)
            return None

    deadline, after = time.monotonic() + 60, None
    while after is None and time.monotonic() < deadline:
        after = submitted()
    assert after is not None, "the database came back"
    try:
        wait_until(lambda: statuses(home).get("succeeded") == 2, 120,
                   "the job queued after the restart, run by the same worker")
    except AssertionError:
        print(cluster.log(0)[-6000:])
        raise
    assert worker.poll() is None, cluster.log(0)[-3000:]
    with home.store.read() as s:
        assert {s.get(Job, before).attempts, s.get(Job, after).attempts} == {1}
        result = verify_ledger(s, home.genesis_public_key, home.witness_path, home.origin)
    assert result.valid, result.problems
