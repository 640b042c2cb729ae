"""Every table of the product, gathered on one metadata for migrations."""

import accounts.qualification
import accounts.sessions  # noqa: F401
import cases.models  # noqa: F401
import catalog.models  # noqa: F401
import commerce.models  # noqa: F401
import egress.models  # noqa: F401
import lineage.archive
import lineage.ledger
import lineage.queue  # noqa: F401
import notices.models  # noqa: F401
import sandbox.models  # noqa: F401
import service.form_keys  # noqa: F401
import vault.models  # noqa: F401
from kernel.base import Base

metadata = Base.metadata
