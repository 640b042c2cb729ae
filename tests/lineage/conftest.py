from lineage.events import event

# The ledger's tests append events of their own kind, about "thing" subjects.
TEST_EVENT = event("test.event", "thing", "an event of the tests")
