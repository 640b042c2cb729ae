"""The distribution of a commercial product's sales income (Art. 31, "who invests, who
contributes, who benefits"): the platform's share, the providers' share split over the
product's source datasets by the policy's rule, the operator the rest. Whole hundredths
throughout: the parts always add up to the income (a remainder goes by largest fraction)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies import Policy


def split(income_cents: int, sources: list[str], jobs_per_source: Mapping[str, int],
          policy: Policy) -> dict[str, Any]:
    """``income_cents`` split into the platform's, each source dataset's and the operator's
    parts. ``jobs_per_source``: the product's grant's jobs that read each source (the
    ``jobs`` rule; a source no job read counts as one, so no contributor gets nothing)."""
    rules = policy.commerce
    platform = round(income_cents * rules.platform_share)
    providers = round(income_cents * rules.provider_share) if sources else 0
    if rules.provider_split == "jobs":
        weights = {s: max(int(jobs_per_source.get(s, 0)), 1) for s in sources}
    else:
        weights = dict.fromkeys(sources, 1)
    per_source = _apportion(providers, weights)
    return {"income_cents": income_cents, "platform_cents": platform,
            "sources": per_source, "operator_cents": income_cents - platform - providers}


def _apportion(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """``total`` in whole parts proportional to ``weights`` (largest remainder)."""
    whole = sum(weights.values())
    if not whole:
        return {}
    exact = {k: total * w / whole for k, w in weights.items()}
    parts = {k: int(v) for k, v in exact.items()}
    left = total - sum(parts.values())
    for k in sorted(exact, key=lambda k: (parts[k] - exact[k], k))[:left]:
        parts[k] += 1
    return dict(sorted(parts.items()))
