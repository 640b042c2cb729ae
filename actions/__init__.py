"""The application layer: one function per user action, under the CLI, the API, the console and
the demo alike.

Each action takes a :class:`~actions.context.Context` (who acts, the store, the policy, where data
lives, the keys, and what to do after a commit), checks the permission table, owns its
transaction and its after-commit side effects (waking the job pool, building a preview, storage
uploads), and returns plain views. Shells parse input, call one action and render its result.
"""

from actions.context import Context, Dispatcher

__all__ = ["Context", "Dispatcher"]
