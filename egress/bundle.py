"""Signed release bundles: writing them and verifying them offline."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from catalog.files import sha256_file
from lineage import Signer
from lineage.canonical import canonical_bytes
from lineage.errors import SigningKeyError
from lineage.signing import key_id as key_id_of
from lineage.signing import load_public, public_pem
from lineage.signing import verify as verify_signature

MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
PUBLIC_KEY, OUTPUT = "platform.pub.pem", "output.parquet"
FORMAT = "tds-release/1"


def write_bundle(directory: Path, output: Path, manifest: dict[str, Any], signer: Signer) -> str:
    """Write output, manifest, signature and public key; return the manifest's SHA-256."""
    directory.mkdir(parents=True, exist_ok=False)
    try:
        shutil.copyfile(output, directory / OUTPUT)
        manifest = dict(manifest, format=FORMAT, key_id=signer.key_id, files=[
            {"name": OUTPUT, "sha256": sha256_file(directory / OUTPUT),
             "bytes": (directory / OUTPUT).stat().st_size},
        ])
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
    result.update(valid=not problems, product=manifest.get("product"),
                  release_id=manifest.get("release_id"), files=len(manifest.get("files", [])))
    return result
