"""A release's download as an HTTP answer, for the API and the console alike."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import quote

from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from egress.bundle import zipped
from egress.export import FORMATS


def downloaded(produced: Path, fmt: str) -> Response:
    """The bundle directory zipped, or a written CSV/XLSX file (its temporary directory is
    removed once sent)."""
    media = FORMATS[fmt][0]
    name = f"{produced.name}.zip" if fmt == "bundle" else produced.name
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "bundle":
        return StreamingResponse(zipped(produced), media_type=media, headers=disposition)
    return FileResponse(produced, media_type=media, headers=disposition,
                        background=BackgroundTask(shutil.rmtree, produced.parent, True))


ATTACHMENT_TYPES = {".pdf": "application/pdf", ".ofd": "application/ofd",
                    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def attachment_download(path: Path, filename: str) -> Response:
    """An application's attachment, always as a download (never shown in the console's own
    origin), its name in RFC 6266's UTF-8 form."""
    suffix = Path(filename).suffix.lower()
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                         for c in filename)
    disposition = (f'attachment; filename="{ascii_name}"; '
                   f"filename*=UTF-8''{quote(filename, safe='')}")
    return FileResponse(path, media_type=ATTACHMENT_TYPES.get(suffix, "application/octet-stream"),
                        headers={"Content-Disposition": disposition})
