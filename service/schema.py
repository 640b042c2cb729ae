"""Every table of the product, gathered on one metadata for migrations."""

import catalog.models  # noqa: F401
import egress.models  # noqa: F401
import lineage.archive
import lineage.ledger  # noqa: F401
import notices.models  # noqa: F401
import sandbox.models  # noqa: F401
import service.form_keys  # noqa: F401
from kernel.base import Base

metadata = Base.metadata
