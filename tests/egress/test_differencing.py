"""Secondary suppression across releases, on fingerprints made by hand: which cells count as
known (shown in a release or in the output checked) and which merely exist (drafts)."""

from __future__ import annotations

import pyarrow as pa

from egress.differencing import MEASURE, ROWS, SELF, SHOWN, SUBSET, recoverable

D, K = "visits.district", "visits.kind"


def cells(*rows: tuple[str | None, str | None, bool]) -> pa.Table:
    """Fingerprint of (district, kind, shown) cells; kind None is the district's margin."""
    return pa.table({
        SUBSET: [D if k is None else f"{D},{K}" for _, k, _ in rows],
        D: [d for d, _, _ in rows], K: [k for _, k, _ in rows],
        MEASURE: ["rows"] * len(rows), ROWS: [10] * len(rows),
        SHOWN: [shown for _, _, shown in rows]})


RELEASED = cells(("x", None, True), ("x", "a", False), ("x", "b", False), ("x", "c", True))


def test_a_hidden_cell_is_recoverable_once_margin_and_every_sibling_are_known():
    (found,) = recoverable(cells(("x", "b", True)), {"egress:1": RELEASED}, {})
    assert found["cell"] == {D: "x", K: "a"} and found["suppressed_in"] == "egress:1"
    assert found["completed_by"] == sorted({SELF, "egress:1"})


def test_two_hidden_cells_under_one_margin_stay_hidden():
    assert recoverable(cells(("x", "c", True)), {"egress:1": RELEASED}, {}) == []


def test_a_draft_shows_nothing_but_tells_which_cells_exist():
    # the draft's cell "d" exists, so "a" is not the margin minus the released cells
    draft = cells(("x", "d", True))
    assert recoverable(cells(("x", "b", True)), {"egress:1": RELEASED}, {"egress:2": draft}) == []
    # ... and a draft's shown cell completes nothing
    assert recoverable(cells(("z", None, True)), {}, {"egress:1": RELEASED}) == []


def test_a_cell_this_output_hides_is_checked_against_releases():
    mine = cells(("x", None, True), ("x", "a", False), ("x", "b", False), ("x", "c", True))
    earlier = cells(("x", "b", True))
    (found,) = recoverable(mine, {"egress:1": earlier}, {})
    assert found["suppressed_in"] == SELF and found["cell"] == {D: "x", K: "a"}


def test_risks_the_output_takes_no_part_in_are_not_its_own():
    old = cells(("x", "b", True))
    assert recoverable(cells(("q", None, True)), {"egress:1": RELEASED, "egress:2": old}, {}) == []
