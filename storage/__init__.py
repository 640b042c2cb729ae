"""Where the platform's files live: datasets, previews, workspaces, releases, ledger archives.

Every file is addressed by a path relative to the storage and reached through a pyarrow file
system: a directory (``TDS_HOME`` itself, or a shared path every machine mounts) by default, or
S3-compatible object storage (``s3://bucket/prefix?endpoint_override=...``) by configuration.
"""

from storage.errors import StorageError
from storage.store import Storage, open_storage

__all__ = ["Storage", "StorageError", "open_storage"]
