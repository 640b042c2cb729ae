"""A release's download as an HTTP answer, for the API and the console alike."""

from __future__ import annotations

import shutil
from pathlib import Path

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
