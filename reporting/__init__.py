"""What is built from the ledger for people to read: the lineage graph, the annual disclosure
report, the monitoring indicators, the audit search, and the OpenLineage export."""
