"""Encryption at rest: the master key, the data keys it wraps, and encrypted files.

Each dataset whose level the policy encrypts has a data key, and so has each grant that
includes such a dataset. Data keys are random 256-bit AES keys, kept in the store only wrapped
(AES-256-GCM) by the platform's master key, which never enters the store: it comes from a
KMS-style key file (``TDS_KEY_FILE``, or the home's own) or is derived from
``TDS_KEY_PASSPHRASE``. Files are encrypted by pyarrow's Parquet modular encryption (AES-GCM,
OpenSSL) or, for other files, as one AES-GCM envelope. Destroying a data key (a grant that
ends) makes every copy of its files unreadable, backups and object versions included: the
ledger records when (crypto-shredding).
"""

from vault.errors import KeyDestroyed, MasterKeyMissing, VaultError

__all__ = ["KeyDestroyed", "MasterKeyMissing", "VaultError"]
