"""What needs a user's attention: notices (the ledger's events on their work, read from the
ledger itself, so a notice can never disagree with what happened), to-dos counted from the
state of applications, requests, grants and datasets, and e-mail digests of the notices.

Notices and e-mails name objects by kind and id only, never data."""
