"""Registering data resources into the catalog and reading catalog entries (never real rows)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from anonymize.entities import ENTITIES
from catalog import encryption, events, names
from catalog import search as finder
from catalog.errors import Conflict, InvalidInput, NotFound
from catalog.files import read_table, schema_of, sha256_file, write_parquet_atomically
from catalog.models import Dataset, DatasetVersion, iso, utcnow
from kernel.base import on_rollback
from lineage import append
from policies import LEVELS, Actor, Policy, Role
from policies.permissions import Action, permit
from storage import Storage

ATTRIBUTES = ("open", "conditional", "restricted")
# How often the providing department updates a dataset (更新频率).
FREQUENCIES = ("realtime", "daily", "weekly", "monthly", "quarterly", "yearly", "irregular")
FIELD_NAME_LENGTH = 100


@dataclass(frozen=True)
class Registration:
    name: str
    title: str
    domain: str
    level: str
    attribute: str
    description: str = ""
    department: str = ""  # the providing department (数源部门)
    update_frequency: str = "irregular"
    field_names: dict[str, str] | None = None  # column -> Chinese field name


def _validate(reg: Registration, policy: Policy) -> Registration:
    if reg.level not in LEVELS:
        raise InvalidInput("level must be one of {levels}, not {level!r}",
                           levels=', '.join(LEVELS), level=reg.level)
    if reg.attribute not in ATTRIBUTES:
        raise InvalidInput("attribute must be one of {attributes}, not {attribute!r}",
                           attributes=', '.join(ATTRIBUTES), attribute=reg.attribute)
    if reg.update_frequency not in FREQUENCIES:
        raise InvalidInput("update frequency must be one of {frequencies}, not {update_frequency!r}",
                           frequencies=', '.join(FREQUENCIES),
                           update_frequency=str(reg.update_frequency)[:40])
    return Registration(
        name=names.identifier(reg.name, "dataset name", policy.max_name_length),
        title=names.text(reg.title, "title", policy.max_title_length),
        domain=names.identifier(reg.domain, "domain", policy.max_name_length),
        level=reg.level,
        attribute=reg.attribute,
        description=names.text(reg.description, "description", policy.text.long_length,
                               required=False, multiline=True),
        department=names.text(reg.department, "department", policy.max_title_length,
                              required=False),
        update_frequency=reg.update_frequency,
        field_names=_field_names(reg.field_names),
    )


def _field_names(given: Any) -> dict[str, str]:
    """Column -> Chinese field name, each checked as short text (empty names dropped)."""
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise InvalidInput("field names must map column names to their field names")
    out = {}
    for column, label in given.items():
        label = names.text(str(label), "field name", FIELD_NAME_LENGTH, required=False)
        if label:
            out[str(column)] = label
    return out


def _known_columns(field_names: dict[str, str], columns: list[str], dataset: str) -> None:
    for column in field_names:
        if column not in columns:
            raise InvalidInput("dataset {dataset!r} has no column {column!r} to name",
                               dataset=dataset, column=column[:80])


def index(dataset: Dataset) -> None:
    """Refresh the text the catalog search finds ``dataset`` by."""
    dataset.search_text = finder.document(
        dataset.name, dataset.title, dataset.description, dataset.department, dataset.domain,
        dataset.latest.column_names, dataset.field_names or {})


def register(session: Session, actor: Actor, policy: Policy, data: Storage, source: Path,
             reg: Registration) -> DatasetVersion:
    """Register ``source`` as a new dataset, or as a new version of the provider's dataset."""
    permit(actor, Action.DATASET_REGISTER)
    reg = _validate(reg, policy)
    try:
        size = source.stat().st_size
    except OSError as exc:
        raise InvalidInput("cannot read {name}: {strerror}", name=source.name, strerror=exc.strerror) from exc
    if size > policy.max_upload_bytes:
        raise InvalidInput("the file is {size} bytes; the policy allows {max_upload_bytes}",
                           size=size, max_upload_bytes=policy.max_upload_bytes)
    table = read_table(source)
    _known_columns(reg.field_names, table.schema.names, reg.name)
    from anonymize.scan import scan_table, suggest_level  # loads Presidio only to register

    scans = scan_table(table, sample_rows=policy.scan_sample_rows,
                       min_share=policy.entity_min_share, threads=policy.scan_threads)

    dataset = session.scalar(select(Dataset).where(Dataset.name == reg.name))
    if dataset is None:
        dataset = Dataset(name=reg.name, registration_no="pending", title=reg.title,
                          description=reg.description, domain=reg.domain, level=reg.level,
                          attribute=reg.attribute, provider_id=actor.id,
                          department=reg.department, update_frequency=reg.update_frequency,
                          field_names=reg.field_names)
        session.add(dataset)
        session.flush()
        dataset.registration_no = f"DR-{utcnow():%Y}-{dataset.id:06d}"
        number = 1
    else:
        if actor.role != Role.ADMIN and dataset.provider_id != actor.id:
            raise Conflict("a dataset named {name!r} exists and belongs to another provider",
                           name=reg.name)
        dataset.title, dataset.description = reg.title, reg.description
        dataset.domain, dataset.level, dataset.attribute = reg.domain, reg.level, reg.attribute
        dataset.department = reg.department or dataset.department
        dataset.update_frequency = reg.update_frequency
        # Field names of columns the new version keeps stay unless given anew.
        kept = {c: n for c, n in (dataset.field_names or {}).items() if c in table.schema.names}
        dataset.field_names = kept | reg.field_names
        number = dataset.versions[-1].version + 1 if dataset.versions else 1

    previous = dataset.versions[-1] if dataset.versions else None
    relative = f"datasets/{reg.name}/v{number}.parquet"
    if data.exists(relative):
        raise Conflict("dataset file {relative} exists already; refusing to overwrite it",
                       relative=relative)
    target = data.local(relative)
    write_parquet_atomically(table, target,
                             encryption.key_for_registration(session, policy, dataset.id,
                                                             reg.level))
    on_rollback(session, lambda: data.remove(relative))
    data.put(relative)
    version = DatasetVersion(
        dataset=dataset, version=number, path=relative, sha256=sha256_file(target),
        rows=table.num_rows, bytes=target.stat().st_size, schema=schema_of(table.schema),
        pii=[s.as_dict() for s in scans], suggested_level=suggest_level(scans),
        column_tags=_suggested_tags(scans, previous), classification="suggested",
        source_name=names.text(source.name, "file name", 255),
    )
    if _same_suggestions(version.column_tags, previous):
        # The scan suggests what the provider confirmed already: the confirmation stands.
        version.classification = "confirmed"
        version.classified_by, version.classified_at = previous.classified_by, utcnow()
    session.add(version)
    session.flush()
    index(dataset)
    append(session, actor, events.DATASET_REGISTERED, f"dataset_version:{version.id}", {
        "dataset": dataset.name, "registration_no": dataset.registration_no,
        "version": number, "sha256": version.sha256, "rows": version.rows,
        "columns": version.column_names, "level": dataset.level,
        "suggested_level": version.suggested_level, "attribute": dataset.attribute,
        "classification": version.classification,
    })
    return version


def _same_suggestions(tags: list[dict[str, Any]], previous: DatasetVersion | None) -> bool:
    """True if ``previous`` was confirmed and its columns and the scan's suggestions are
    those of ``tags``."""
    if previous is None or previous.classification != "confirmed":
        return False
    earlier = {t["name"]: t.get("suggested_entity") for t in previous.tags()}
    return earlier == {t["name"]: t["suggested_entity"] for t in tags}


# Entities that name one contributor (a person, or an enterprise) each, most telling first: the
# person key of a dataset is suggested among columns holding them.
PERSON_KEY_ENTITIES = ("CN_RESIDENT_ID", "CN_PASSPORT", "CN_USCC")


def _suggested_tags(scans: list[Any], previous: DatasetVersion | None) -> list[dict[str, Any]]:
    """The scan's entity per column; flags a provider set on the previous version carry over,
    and so does the entity the provider confirmed where the scan suggests what it suggested
    then (a false hit the provider dismissed stays dismissed; a new suggestion is shown). The
    person key (whose distinct values are a cell's contributors at egress) is the previous
    version's, else the first column of the most telling contributor entity."""
    earlier = {t["name"]: t for t in previous.tags()} if previous is not None else {}
    confirmed = previous is not None and previous.classification == "confirmed"
    tags = []
    for scan in scans:
        old = earlier.get(scan.name, {})
        entity = old.get("entity") if confirmed and old and \
            old.get("suggested_entity") == scan.entity else scan.entity
        tags.append({"name": scan.name, "entity": entity, "suggested_entity": scan.entity,
                     "share": round(scan.fraction, 4),
                     "quasi_identifier": bool(old.get("quasi_identifier", False)),
                     "confidential": bool(old.get("confidential", False)),
                     "person_key": bool(old.get("person_key", False))})
    # A provider who confirmed the previous version's person key (none included) keeps it.
    chosen = previous is not None and previous.classification == "confirmed" and any(
        "person_key" in t for t in previous.tags())
    if not chosen and not any(t["person_key"] for t in tags):
        ranked = sorted((PERSON_KEY_ENTITIES.index(t["entity"]), i) for i, t in enumerate(tags)
                        if t["entity"] in PERSON_KEY_ENTITIES)
        if ranked:
            tags[ranked[0][1]]["person_key"] = True
    return tags


def classify(session: Session, actor: Actor, name: str, entities: dict[str, str | None] | None = None,
             quasi_identifiers: list[str] | None = None, confidential: list[str] | None = None,
             level: str | None = None, person_key: str | None = None,
             field_names: dict[str, str] | None = None) -> DatasetVersion:
    """The provider confirms the latest version's column classification, overriding the scan's
    suggestions where given: entity per column (None: no identifier), the quasi-identifier and
    confidential columns (each list replaces the earlier one), the dataset's level, and the
    person key ("" for none: each row is then its own contributor), and Chinese field names
    of columns (given ones replace earlier ones; an empty name removes one)."""
    permit(actor, Action.DATASET_CLASSIFY)
    dataset = get_provided(session, actor, name)
    version = dataset.latest
    known = set(version.column_names)
    entities = dict(entities or {})
    for column in [*entities, *(quasi_identifiers or []), *(confidential or []),
                   *([person_key] if person_key else [])]:
        if column not in known:
            raise InvalidInput("dataset {name!r} has no column {column!r}",
                               name=dataset.name, column=str(column)[:80])
    for column, entity in entities.items():
        if entity is not None and entity not in ENTITIES:
            raise InvalidInput("unknown entity {entity!r} for column {column!r}; expected one of "
                               "{entities} or none",
                               entity=str(entity)[:40], column=column,
                               entities=', '.join(sorted(ENTITIES)))
    if level is not None and level not in LEVELS:
        raise InvalidInput("level must be one of {levels}, not {level!r}",
                           levels=', '.join(LEVELS), level=level)
    if field_names is not None:
        labels = _field_names(field_names)
        _known_columns(field_names, version.column_names, dataset.name)
        kept = {c: n for c, n in (dataset.field_names or {}).items() if c not in field_names}
        dataset.field_names = kept | labels
        index(dataset)
    tags = []
    overridden = {}
    for tag in version.tags():
        tag = dict(tag)
        if tag["name"] in entities:
            tag["entity"] = entities[tag["name"]]
        if quasi_identifiers is not None:
            tag["quasi_identifier"] = tag["name"] in quasi_identifiers
        if confidential is not None:
            tag["confidential"] = tag["name"] in confidential
        if person_key is not None:
            tag["person_key"] = tag["name"] == person_key
        if tag["entity"] != tag.get("suggested_entity"):
            overridden[tag["name"]] = {"suggested": tag.get("suggested_entity"),
                                       "confirmed": tag["entity"]}
        tags.append(tag)
    version.column_tags = tags
    version.classification, version.classified_by, version.classified_at = \
        "confirmed", actor.id, utcnow()
    if level is not None:
        dataset.level = level
    append(session, actor, events.DATASET_CLASSIFIED, f"dataset_version:{version.id}", {
        "dataset": dataset.name, "version": version.version, "level": dataset.level,
        "suggested_level": version.suggested_level, "overridden": overridden,
        "entities": version.entity_columns(),
        "quasi_identifiers": version.flagged("quasi_identifier"),
        "confidential": version.flagged("confidential"),
        "person_key": version.person_key(),
    })
    return version


def get(session: Session, name: str) -> Dataset:
    dataset = session.scalar(select(Dataset).where(Dataset.name == name))
    if dataset is None:
        raise NotFound("no dataset named {name!r}", name=name[:80])
    return dataset


def _like(word: str) -> str:
    """``word`` as a LIKE pattern matching it anywhere, its wildcards literal."""
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_datasets(session: Session, domain: str | None = None, level: str | None = None,
                  attribute: str | None = None, search: str | None = None) -> list[Dataset]:
    """Datasets matching the filters. ``search``: every word of it occurs in the dataset's
    title, description, department, domain, column or field names, or number
    (:mod:`catalog.search`); the best matches first."""
    query = select(Dataset).order_by(Dataset.name)
    wanted = finder.words(search or "")
    if search and search.strip() and not wanted:
        return []  # only punctuation or wildcards: no word to find
    for word in wanted:
        pattern = _like(word)
        query = query.where(or_(*(column.ilike(pattern, escape="\\") for column in (
            Dataset.search_text, Dataset.name, Dataset.title, Dataset.description,
            Dataset.registration_no))))
    if domain:
        query = query.where(Dataset.domain == domain)
    if level:
        query = query.where(Dataset.level == level)
    if attribute:
        query = query.where(Dataset.attribute == attribute)
    found = list(session.scalars(query))
    if wanted:
        ranked = [(finder.score(wanted, d.title, " ".join(
            [*(d.field_names or {}).values(), *d.latest.column_names]),
            " ".join((d.search_text, d.name, d.title, d.description, d.registration_no))), d)
            for d in found]
        found = [d for s, d in sorted(ranked, key=lambda p: (-p[0], p[1].name)) if s]
    return found


def get_provided(session: Session, actor: Actor, name: str) -> Dataset:
    """A dataset ``actor`` registered (administrators: any), else NotFound."""
    dataset = get(session, name)
    if actor.role != Role.ADMIN and dataset.provider_id != actor.id:
        raise NotFound("no dataset named {name!r} of yours", name=name[:80])
    return dataset


def list_provided(session: Session, actor: Actor) -> list[Dataset]:
    """The datasets ``actor`` registered (administrators: all), by name."""
    permit(actor, Action.DATASET_REGISTER)
    query = select(Dataset).order_by(Dataset.name)
    if actor.role != Role.ADMIN:
        query = query.where(Dataset.provider_id == actor.id)
    return list(session.scalars(query))


def describe(dataset: Dataset, detail: bool = False) -> dict[str, Any]:
    """Catalog metadata of a dataset: schema and scan results, never rows."""
    latest = dataset.latest
    out: dict[str, Any] = {
        "name": dataset.name, "registration_no": dataset.registration_no,
        "title": dataset.title, "description": dataset.description, "domain": dataset.domain,
        "level": dataset.level, "attribute": dataset.attribute, "version": latest.version,
        "department": dataset.department or "", "update_frequency": dataset.update_frequency,
        "field_names": dataset.field_names or {},
        "consent_required": bool(dataset.consent_required),
        "rows": latest.rows, "columns": len(latest.schema),
        "suggested_level": latest.suggested_level,
    }
    out["classification"] = latest.classification
    out["preview"] = {"status": latest.preview_status, "report": latest.preview_report,
                      "error": latest.preview_error or None,
                      "built_at": iso(latest.preview_built_at)}
    if detail:
        out["schema"] = latest.schema
        out["pii"] = latest.pii
        out["column_tags"] = latest.tags()
        out["sha256"] = latest.sha256
        out["versions"] = [
            {"version": v.version, "sha256": v.sha256, "rows": v.rows,
             "created_at": iso(v.created_at)}
            for v in dataset.versions
        ]
    return out
