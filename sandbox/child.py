"""The job process's entry point: ``python -m sandbox.child``.

It keeps pandas out of the process before anything else is imported, then hands over to
:mod:`sandbox.runner`. Arrow's dataset module imports pandas (only to recognise data frames)
when pandas is installed; a job never needs it, and it is about a third of the CPU a job process
spends starting. Refused, it is also one large library less inside the sandbox.
"""

from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder

KEPT_OUT = ("pandas",)


class KeepOut(MetaPathFinder):
    """Makes the packages ``names`` look not installed."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r} in a job process", name=name)
        return None


def main() -> None:
    sys.meta_path.insert(0, KeepOut(KEPT_OUT))
    from sandbox import runner

    runner.exit_now(runner.main())


if __name__ == "__main__":
    main()
