"""docs/policy.md, generated from the typed sections: `python -m policies.docs` rewrites it, and a
test fails when it and the sections differ."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from policies.model import default_policy_text
from policies.sections import SECTIONS

HEADER = """# Policy reference

Every setting of the policy file (`TDS_HOME/policy.toml`, a copy of `policies/default.toml` made by
`tds init`), generated from `policies/sections.py` by `python -m policies.docs`; do not edit by
hand. *Required* settings must be in the file (they are rules of the Measures or of the
platform's operators, never silently defaulted); the others take the default shown when absent.
"""


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, int):
        return f"{value:_}"
    if isinstance(value, str) and "\n" in value:  # a text: its first line, the rest in the file
        return f'"{value.splitlines()[0]} …" (see policies/default.toml)'
    return f'"{value}"' if isinstance(value, str) else str(value)


def reference() -> str:
    lines = [HEADER, "## [levels]", "",
             "Classification levels L1-L4, each `{ label, k_min, reviewers, pseudonymize_pii, "
             "dp_epsilon, encrypt_at_rest }`: the minimum k-anonymity and cell count of a "
             "product derived from the level, the independent approvals its egress needs, "
             "whether PII columns reach the sandbox pseudonymized, the privacy budget "
             "(epsilon) a grant whose most sensitive dataset has the level may spend on "
             "differentially private jobs (0: none), and whether its real data is encrypted at "
             "rest, with the grants that include it. Defaults:", "", "| level | label | k_min | reviewers | "
             "pseudonymize_pii | dp_epsilon | encrypt_at_rest |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, rule in tomllib.loads(default_policy_text())["levels"].items():
        lines.append(f"| {name} | {rule['label']} | {rule['k_min']} | {rule['reviewers']} | "
                     f"{_value(rule['pseudonymize_pii'])} | {rule.get('dp_epsilon', 0)} | "
                     f"{_value(rule.get('encrypt_at_rest', False))} |")
    for section in SECTIONS:
        lines += ["", f"## [{section.NAME}]", "", "| setting | default | unit | meaning |",
                  "| --- | --- | --- | --- |"]
        for f in section.settings():
            kind = f.metadata["kind"]
            meaning = f.metadata["help"] + (
                f" (one of {', '.join(kind.removeprefix('choice:').split('|'))})"
                if kind.startswith("choice:") else "") + (
                " *Required.*" if f.metadata["required"] else "")
            lines.append(f"| `{f.name}` | `{_value(f.default)}` | {f.metadata['unit']} | "
                         f"{meaning} |")
    return "\n".join(lines) + "\n"


def target() -> Path:
    return Path(__file__).resolve().parents[1] / "docs" / "policy.md"


if __name__ == "__main__":
    path = target()
    path.parent.mkdir(exist_ok=True)
    path.write_text(reference(), encoding="utf-8")
    sys.stdout.write(f"wrote {path}\n")
