"""Every lifecycle refuses the moves its table does not list, naming the object and states."""

from __future__ import annotations

import itertools

import pytest

from catalog.states import APPLICATIONS, GRANTS
from egress.states import EGRESS
from policies.lifecycle import Lifecycle, MoveRefused
from sandbox.states import JOBS

LIFECYCLES = {"application": APPLICATIONS, "grant": GRANTS, "job": JOBS, "egress": EGRESS}


@pytest.mark.parametrize("name", sorted(LIFECYCLES))
def test_every_move_not_in_the_table_is_refused(name):
    cycle = LIFECYCLES[name]
    for current, to in itertools.product(cycle.moves, repeat=2):
        if to in cycle.moves[current]:
            assert cycle.move(7, current.value, to) is to
        else:
            with pytest.raises(MoveRefused, match=f"{cycle.noun} 7 is {current.value}; "
                                                  f"it cannot become {to.value}"):
                cycle.move(7, current.value, to)


@pytest.mark.parametrize("name", sorted(LIFECYCLES))
def test_final_states_are_reachable_and_lead_nowhere(name):
    cycle = LIFECYCLES[name]
    reachable = {to for targets in cycle.moves.values() for to in targets}
    assert cycle.final and cycle.final <= reachable
    assert all(not cycle.moves[state] for state in cycle.final)


def test_a_table_naming_an_undeclared_state_is_refused():
    from enum import StrEnum

    class Light(StrEnum):
        RED = "red"
        GREEN = "green"

    with pytest.raises(ValueError, match="undeclared"):
        Lifecycle("light", {Light.RED: (Light.GREEN,)})


def test_an_unknown_stored_state_moves_nowhere():
    assert not GRANTS.allows("archived", next(iter(GRANTS.final)))
