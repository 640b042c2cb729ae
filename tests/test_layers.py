"""The packages' dependencies point one way, and no module reaches into another's privates."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Each package and the packages it may import (besides itself and third-party libraries).
MAY_IMPORT = {
    "kernel": set(),
    "policies": {"kernel"},
    "lineage": {"kernel", "policies"},
    "storage": {"kernel", "policies"},
    "vault": {"kernel", "policies", "lineage"},
    "catalog": {"kernel", "policies", "lineage", "storage", "anonymize", "synth", "vault"},
    "accounts": {"kernel", "policies", "lineage", "catalog", "anonymize"},
    "anonymize": {"kernel", "policies"},
    "synth": {"kernel", "policies", "anonymize", "catalog"},
    "sandbox": {"kernel", "policies", "lineage", "storage", "catalog", "anonymize", "synth",
                "vault"},
    "egress": {"kernel", "policies", "lineage", "storage", "catalog", "sandbox", "anonymize",
               "vault"},
    "reporting": {"kernel", "policies", "lineage", "catalog", "sandbox", "egress", "accounts",
                  "commerce", "cases"},
    "workers": {"kernel", "policies", "lineage", "storage", "catalog", "sandbox", "egress",
                "actions"},
    "cases": {"kernel", "policies", "lineage", "catalog"},
    "commerce": {"kernel", "policies", "lineage", "catalog", "sandbox", "egress"},
    "notices": {"kernel", "policies", "lineage", "catalog", "sandbox", "egress", "accounts",
                "cases"},
    "actions": {"kernel", "policies", "lineage", "storage", "catalog", "sandbox", "egress",
                "accounts", "reporting", "anonymize", "synth", "notices", "cases",
                "commerce", "vault"},
}
PACKAGES = set(MAY_IMPORT) | {"service"}


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [a.name for a in node.names]


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_a_package_imports_only_the_packages_below_it(package):
    wrong = set()
    for path in (ROOT / package).rglob("*.py"):
        for module, _ in _imports(path):
            top = module.split(".")[0]
            if top in PACKAGES and top != package and top not in MAY_IMPORT[package]:
                wrong.add(f"{path.relative_to(ROOT)} imports {module}")
    assert not wrong, sorted(wrong)


def test_no_module_imports_another_modules_private_names():
    found = []
    for package in sorted(PACKAGES):
        for path in (ROOT / package).rglob("*.py"):
            for module, names in _imports(path):
                private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                if module.split(".")[0] in PACKAGES and private:
                    found.append(f"{path.relative_to(ROOT)}: {module} {private}")
    assert not found, found
