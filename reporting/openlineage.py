"""OpenLineage export: the catalog's dataset versions and every finished job as OpenLineage
DatasetEvents and RunEvents (schema, SQL, column lineage and data-source facets), written with
the openlineage-python client's file transport (JSON lines)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import (
    DatasetEvent,
    InputDataset,
    Job,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
    StaticDataset,
)
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    datasource_dataset,
    schema_dataset,
    sql_job,
)
from openlineage.client.transport.file import FileConfig, FileTransport
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import DatasetVersion
from sandbox.columns import column_lineage
from sandbox.models import Job as SandboxJob

PRODUCER = "https://github.com/trusted-data-sandbox/tds"
_RUN_NAMESPACE = uuid.UUID("9b7a3c1e-3d64-4f1c-9a7e-1f0f6a0d2c55")


def _stamp(value) -> str:
    return value.isoformat(timespec="milliseconds") + "Z"


def _schema(columns: list[dict[str, Any]]) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name=c["name"], type=c.get("type"))
                for c in columns], producer=PRODUCER)


def export(session: Session, origin: str, path: Path) -> int:
    """Write every event to ``path`` (JSON lines, appended); return how many."""
    namespace = f"tds://{origin.replace('/', '.')}"
    source = datasource_dataset.DatasourceDatasetFacet(name="tds", uri=namespace,
                                                       producer=PRODUCER)
    path.parent.mkdir(parents=True, exist_ok=True)
    client = OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(path),
                                                                  append=True)))
    count = 0
    names: dict[tuple[str, int], str] = {}
    versions = session.scalars(select(DatasetVersion).order_by(DatasetVersion.id))
    for version in versions:
        name = f"datasets/{version.dataset.name}/v{version.version}"
        names[(version.dataset.registration_no, version.version)] = name
        client.emit(DatasetEvent(eventTime=_stamp(version.created_at), producer=PRODUCER,
                                 dataset=StaticDataset(namespace=namespace, name=name, facets={
                                     "schema": _schema(version.schema), "dataSource": source})))
        count += 1
    jobs = session.scalars(select(SandboxJob).where(
        SandboxJob.status.in_(("succeeded", "failed", "timed_out"))).order_by(SandboxJob.id))
    for job in jobs:
        run = Run(runId=str(uuid.uuid5(_RUN_NAMESPACE, f"job:{job.id}")))
        ol_job = Job(namespace=namespace,
                     name=f"grant-{job.grant_id}/{job.target}/{job.output_name}",
                     facets={"sql": sql_job.SQLJobFacet(query=job.sql, dialect="duckdb",
                                                        producer=PRODUCER)})
        inputs, tables = [], {}
        for table, src in (job.sources or {}).items():
            if src.get("kind") == "dataset":
                name = names.get((src.get("registration_no"), src.get("version")),
                                 f"datasets/{table}")
                tables[table] = (name, list(src.get("columns") or []))
            elif src.get("kind") == "own":  # the merchant's own table in the workspace
                name = f"own/grant-{job.grant_id}/{src.get('own_id')}-{table}"
                tables[table] = (name, list(src.get("columns") or []))
            else:
                name = f"outputs/grant-{job.grant_id}/{job.target}/{table}"
                earlier = session.get(SandboxJob, src.get("job_id"))
                tables[table] = (name, [c["name"] for c in (earlier.output_schema or [])]
                                 if earlier else [])
            inputs.append(InputDataset(namespace=namespace, name=name))
        outputs = []
        if job.status == "succeeded":
            columns = [c["name"] for c in job.output_schema or []]
            lineage = column_lineage(job.sql, {t: cols for t, (_, cols) in tables.items()},
                                     columns)
            fields = {
                out: column_lineage_dataset.Fields(inputFields=[
                    column_lineage_dataset.InputField(namespace=namespace,
                                                      name=tables[t][0], field=c)
                    for t, c in pairs])
                for out, pairs in lineage["columns"].items()}
            outputs.append(OutputDataset(
                namespace=namespace,
                name=f"outputs/grant-{job.grant_id}/{job.target}/{job.output_name}",
                facets={"schema": _schema(job.output_schema or []), "dataSource": source,
                        "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet(
                            fields=fields, producer=PRODUCER)}))
        start = job.started_at or job.created_at
        client.emit(RunEvent(eventType=RunState.START, eventTime=_stamp(start), run=run,
                             job=ol_job, inputs=inputs, producer=PRODUCER))
        end_state = RunState.COMPLETE if job.status == "succeeded" else RunState.FAIL
        client.emit(RunEvent(eventType=end_state, eventTime=_stamp(job.finished_at or start),
                             run=run, job=ol_job, inputs=inputs, outputs=outputs,
                             producer=PRODUCER))
        count += 2
    return count
