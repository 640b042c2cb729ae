from pydantic import ConfigDict

from lineage.events import Payload, event


class Anything(Payload):
    """The ledger's own tests append arbitrary canonical payloads."""

    model_config = ConfigDict(extra="allow")


# The ledger's tests append events of their own kind, about "thing" subjects.
TEST_EVENT = event("test.event", "thing", "an event of the tests", Anything)
