"""Signed release bundles: writing them and verifying them offline."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from catalog.files import sha256_file
from lineage import Signer, proofs
from lineage.canonical import canonical_bytes
from lineage.errors import SigningKeyError
from lineage.signing import key_id as key_id_of
from lineage.signing import load_public, public_pem
from lineage.signing import verify as verify_signature
from vault.files import read_bytes, read_table, write_table

MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
PUBLIC_KEY, OUTPUT = "platform.pub.pem", "output.parquet"
PROOF = "ledger-proof.json"  # inclusion proof of the release event (written after the commit)
FORMAT = "tds-release/1"


def write_bundle(directory: Path, output: Path, manifest: dict[str, Any], signer: Signer,
                 extra: list[Path] | None = None, key: bytes | None = None) -> str:
    """Write output (and ``extra`` files such as ACRO's results.json), manifest, signature and
    public key; return the manifest's SHA-256. ``key``: the data key the files are encrypted
    with at rest; the bundle holds them decrypted."""
    directory.mkdir(parents=True, exist_ok=False)
    try:
        if key is None:
            shutil.copyfile(output, directory / OUTPUT)
        else:
            write_table(read_table(output, key), directory / OUTPUT, None)
        names = [OUTPUT]
        for path in extra or []:
            (directory / path.name).write_bytes(read_bytes(path, key, path.name))
            names.append(path.name)
        manifest = dict(manifest, format=FORMAT, key_id=signer.key_id, files=[
            {"name": name, "sha256": sha256_file(directory / name),
             "bytes": (directory / name).stat().st_size} for name in names])
        body = canonical_bytes(manifest)
        (directory / MANIFEST).write_bytes(body)
        (directory / SIGNATURE).write_text(signer.sign(body) + "\n", encoding="ascii")
        (directory / PUBLIC_KEY).write_bytes(public_pem(signer.public))
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return hashlib.sha256(body).hexdigest()


def verify_bundle(directory: Path, trusted_key_pem: bytes | None = None) -> dict[str, Any]:
    """Check the signature and every file hash. ``trusted_key_pem`` pins the platform key;
    without it the bundle's own key is used and its id reported for the reader to compare."""
    problems: list[str] = []
    result: dict[str, Any] = {"valid": False, "path": str(directory), "problems": problems}
    try:
        body = (directory / MANIFEST).read_bytes()
        signature = (directory / SIGNATURE).read_text(encoding="ascii").strip()
        key_pem = trusted_key_pem or (directory / PUBLIC_KEY).read_bytes()
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"bundle incomplete: {exc}")
        return result
    try:
        public = load_public(key_pem)
    except SigningKeyError as exc:
        problems.append(str(exc))
        return result
    result["key_id"] = key_id_of(public)
    result["trusted_key"] = trusted_key_pem is not None
    try:
        manifest = json.loads(body)
    except ValueError:
        problems.append("manifest.json is not JSON")
        return result
    if not verify_signature(public, body, signature):
        problems.append("the signature does not match the manifest and key")
    if manifest.get("key_id") != result["key_id"]:
        problems.append("the manifest names another signing key")
    try:
        if canonical_bytes(manifest) != body:
            problems.append("manifest.json is not in canonical form")
    except TypeError:
        problems.append("manifest.json holds values that cannot be canonical")
    for entry in manifest.get("files", []):
        path = directory / str(entry.get("name", ""))
        if path.parent != directory or not path.is_file():
            problems.append(f"file {entry.get('name')!r} is missing")
        elif sha256_file(path) != entry.get("sha256"):
            problems.append(f"file {entry['name']} was modified (hash mismatch)")
    result["logged"] = _check_proof(directory, body, manifest, public, problems)
    result.update(valid=not problems, product=manifest.get("product"),
                  release_id=manifest.get("release_id"), files=len(manifest.get("files", [])))
    return result


def zipped(directory: Path) -> io.BytesIO:
    """The bundle as a zip archive in memory (the download), files under the bundle's name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.iterdir()):
            archive.write(path, f"{directory.name}/{path.name}")
    buffer.seek(0)
    return buffer


def write_proof(directory: Path, document: dict[str, Any]) -> None:
    """Add the ledger's inclusion proof of the release event to a bundle."""
    tmp = directory / (PROOF + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(directory / PROOF)


def _check_proof(directory: Path, body: bytes, manifest: dict[str, Any],
                 public: Ed25519PublicKey, problems: list[str]) -> bool:
    """True when the bundle proves its release event is in the signed ledger."""
    path = directory / PROOF
    if not path.exists():
        return False
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        event = document["event"]
    except (OSError, ValueError, KeyError, TypeError):
        problems.append(f"{PROOF} is unreadable")
        return False
    found = proofs.verify_inclusion(document, [public])
    problems.extend(f"ledger proof: {p}" for p in found)
    payload = event.get("payload", {}) if isinstance(event, dict) else {}
    if event.get("action") != "release.created" or \
            payload.get("manifest_sha256") != hashlib.sha256(body).hexdigest() or \
            event.get("subject") != f"release:{manifest.get('release_id')}":
        problems.append("ledger proof: the logged event is not this bundle's release")
        return False
    return not found
