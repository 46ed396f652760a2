"""Disclosure control: hand-made tables with known suppressions, and an intruder's LP."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from kotoeval.disclose.audit import margin, protect
from kotoeval.disclose.counts import TOTAL, CountTable, check_counts, with_margins
from kotoeval.disclose.magnitude import Contributions, sensitive
from kotoeval.disclose.outputs import partition_secondary, row_reasons
from kotoeval.disclose.results import _summary
from kotoeval.disclose.rules import PRESETS, RuleSet, rule_set
from kotoeval.errors import DisclosureError, SpecError

THREE = PRESETS["threshold_3"]


def _table(name: str, leaves: dict[tuple[str, ...], int], dims: tuple[str, ...],
           hierarchies: dict[str, dict[str, str]] | None = None) -> CountTable:  # fmt: skip
    frame = pd.DataFrame([(*k, v) for k, v in leaves.items()], columns=[*dims, "persons"])
    return CountTable(name, with_margins(frame, dims, hierarchies), dims, hierarchies or {})


def _suppressed(checked: pd.DataFrame, dims: tuple[str, ...]) -> dict[tuple[str, ...], str]:
    hidden = checked[checked["suppression"] != ""]
    return {tuple(r[d] for d in dims): r["suppression"] for r in hidden.to_dict("records")}


def test_one_small_cell_of_a_two_way_table_hides_the_smallest_rectangle() -> None:
    #        A   B | total
    #   x    2  10 |  12
    #   y    8   9 |  17
    t = _table("t", {("x", "A"): 2, ("x", "B"): 10, ("y", "A"): 8, ("y", "B"): 9}, ("row", "col"))
    checked, decisions = check_counts([t], THREE)
    assert _suppressed(checked["t"], ("row", "col")) == {
        ("x", "A"): "primary", ("x", "B"): "secondary",
        ("y", "A"): "secondary", ("y", "B"): "secondary",
    }  # fmt: skip
    published = checked["t"].set_index(["row", "col"])["persons"]
    assert published[(TOTAL, TOTAL)] == 29 and published[("x", TOTAL)] == 12
    primary = [d for d in decisions if d.kind == "primary"]
    assert len(primary) == 1 and primary[0].cell == "col=A, row=x"
    assert "feasible 0…10" in primary[0].detail


def test_nothing_is_hidden_when_no_cell_is_small() -> None:
    t = _table("t", {("x", "A"): 0, ("x", "B"): 10, ("y", "A"): 8, ("y", "B"): 9}, ("row", "col"))
    checked, decisions = check_counts([t], THREE)
    assert decisions == [] and (checked["t"]["suppression"] == "").all()  # zeros are published


def test_hierarchy_municipality_area_ely_country() -> None:
    # Espoo (049) and Kauniainen (235) form one employment area; Vantaa (092) is an area of
    # its own; both lie in one ELY centre with Lohja (444) in a third area.
    hierarchy = {"049": "ea_espoo", "235": "ea_espoo", "092": "ea_vantaa", "444": "ea_lohja"}
    hierarchy |= dict.fromkeys(("ea_espoo", "ea_vantaa", "ea_lohja"), "ely_uusimaa")
    t = _table("a", {("049",): 120, ("235",): 2, ("092",): 90, ("444",): 1}, ("area",),
               {"area": hierarchy})  # fmt: skip
    checked, _ = check_counts([t], THREE)
    hidden = _suppressed(checked["a"], ("area",))
    # Kauniainen is small: Espoo must go too (its area total is published). Lohja is small and
    # alone in its area, so the area is small as well; both need a sibling area hidden.
    assert hidden[("235",)] == "primary" and hidden[("444",)] == "primary"
    assert hidden[("049",)] == "secondary"
    assert hidden[("ea_lohja",)] == "primary"  # 1 person: small in its own right
    assert ("ea_vantaa",) in hidden or ("ea_espoo",) in hidden
    shown = checked["a"].set_index("area")["persons"]
    assert shown["ely_uusimaa"] == 213 and shown[TOTAL] == 213


def test_linked_tables_share_their_margins() -> None:
    # Two tables of the same persons: area × sex and area × age band share the area totals.
    a = _table("by_sex", {("k", "f"): 4, ("k", "m"): 1, ("v", "f"): 30, ("v", "m"): 25},
               ("area", "sex"))  # fmt: skip
    b = _table("by_age", {("k", "young"): 3, ("k", "old"): 2, ("v", "young"): 20,
                          ("v", "old"): 35}, ("area", "age"))  # fmt: skip
    checked, _ = check_counts([a, b], THREE)
    total_k = [
        t.set_index(dims).loc[("k", TOTAL), "suppression"]
        for t, dims in ((checked["by_sex"], ["area", "sex"]), (checked["by_age"], ["area", "age"]))
    ]
    assert total_k[0] == total_k[1]  # one cell, one decision, in both tables
    _assert_protected([a, b], checked, THREE)


def test_a_cell_whose_only_margin_is_hidden_is_unbounded() -> None:
    # The only non-empty part of a whole: hiding the whole leaves it anywhere from 0 upwards.
    values = np.array([16.0, 0.0, 0.0, 16.0])
    sensitive = np.array([False, False, False, True])
    proof = protect(values, [margin(0, [1, 2, 3])], sensitive, np.full(4, 5.0))
    assert proof.hidden[0] and proof.low[3] == 0 and proof.high[3] == np.inf


def test_tables_that_disagree_on_a_shared_cell_are_refused() -> None:
    a = _table("a", {("k", "f"): 4, ("k", "m"): 6}, ("area", "sex"))
    b = _table("b", {("k", "young"): 3, ("k", "old"): 2}, ("area", "age"))
    with pytest.raises(DisclosureError, match="disagree on area=k"):
        check_counts([a, b], THREE)


@st.composite
def _worlds(draw: st.DrawFn) -> tuple[dict[tuple[str, str, str], int], int]:
    areas = [f"a{i}" for i in range(draw(st.integers(2, 4)))]
    ages = [f"g{i}" for i in range(draw(st.integers(2, 3)))]
    cells = list(itertools.product(areas, ("f", "m"), ages))
    counts = draw(st.lists(st.integers(0, 9), min_size=len(cells), max_size=len(cells)))
    return dict(zip(cells, counts, strict=True)), draw(st.sampled_from([3, 5]))


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(_worlds())
def test_no_small_cell_can_be_recomputed_from_the_released_tables(
    world: tuple[dict[tuple[str, str, str], int], int],
) -> None:
    """An intruder who knows every published cell of both tables, and that they come from one
    area × sex × age table of non-negative counts, cannot pin any small cell to fewer than
    ``threshold`` values."""
    persons, threshold = world
    rules = RuleSet("t", threshold)
    leaves_sex: dict[tuple[str, ...], int] = {}
    leaves_age: dict[tuple[str, ...], int] = {}
    for (area, sex, age), n in persons.items():
        leaves_sex[(area, sex)] = leaves_sex.get((area, sex), 0) + n
        leaves_age[(area, age)] = leaves_age.get((area, age), 0) + n
    a, b = (
        _table("by_sex", leaves_sex, ("area", "sex")),
        _table("by_age", leaves_age, ("area", "age")),
    )
    try:
        checked, _ = check_counts([a, b], rules)
    except DisclosureError:
        return  # refusing to publish is safe
    _assert_protected([a, b], checked, rules, persons)


def _assert_protected(
    tables: list[CountTable],
    checked: dict[str, pd.DataFrame],
    rules: RuleSet,
    persons: dict[tuple[str, str, str], int] | None = None,
) -> None:
    """The intruder's LP over the joint table: every primary cell's interval is wide enough."""
    if persons is None:  # the tables' own leaves, joined on area (any joint table will do)
        persons = _a_joint_table(tables)
    keys = list(persons)
    constraints, targets = [], []
    for t in tables:
        dims = t.dims
        for row in checked[t.name].to_dict("records"):
            match = np.array([_matches(k, row, dims) for k in keys], dtype=float)
            if row["suppression"] == "":
                constraints.append((match, float(row["persons"])))
            elif row["suppression"] == "primary":
                targets.append(match)
    a_eq = np.array([c for c, _ in constraints])
    b_eq = np.array([v for _, v in constraints])
    for target in targets:
        low = linprog(target, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog(-target, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        assert low.status == 0 and high.status in (0, 3)
        width = np.inf if high.status == 3 else -high.fun - low.fun
        assert width >= rules.threshold - 1e-6


def _matches(key: tuple[str, str, str], row: dict[str, object], dims: tuple[str, ...]) -> bool:
    area, sex, age = key
    values = {"area": area, "sex": sex, "age": age}
    return all(row[d] == TOTAL or row[d] == values[d] for d in dims)


def _a_joint_table(tables: list[CountTable]) -> dict[tuple[str, str, str], int]:
    """Any area × sex × age table consistent with the given leaves (north-west corner rule)."""
    by_sex, by_age = (t.cells for t in tables)
    out: dict[tuple[str, str, str], int] = {}
    for area in by_sex.loc[by_sex["area"] != TOTAL, "area"].unique():
        rows = by_sex[(by_sex["area"] == area) & (by_sex["sex"] != TOTAL)]
        cols = by_age[(by_age["area"] == area) & (by_age["age"] != TOTAL)]
        r = dict(zip(rows["sex"], rows["persons"], strict=True))
        c = dict(zip(cols["age"], cols["persons"], strict=True))
        for sex in r:
            for age in c:
                n = min(r[sex], c[age])
                out[(area, sex, age)] = n
                r[sex] -= n
                c[age] -= n
    return out


# ---- magnitudes ---------------------------------------------------------------------------


def test_dominance_and_p_percent_rules_on_constructed_contributions() -> None:
    eurostat = PRESETS["eurostat"]  # threshold 10, (2, 90) dominance
    many = [1000.0] * 9
    assert sensitive(Contributions.of(many), eurostat) == "threshold 10: 9 persons"
    dominated = Contributions.of([50_000.0, 40_000.0, *([500.0] * 10)])  # top 2: 94.7 %
    assert "dominance (2, 90)" in (sensitive(dominated, eurostat) or "")
    spread = Contributions.of([20_000.0, 15_000.0, *([2_000.0] * 10)])  # top 2: 63.6 %
    assert sensitive(spread, eurostat) is None
    p10 = RuleSet("p", threshold=3, p_percent=10)
    # The runner-up knows the total less the two largest (3) is below 10 % of the largest (100).
    assert "p % rule" in (sensitive(Contributions.of([100.0, 50.0, 3.0]), p10) or "")
    assert sensitive(Contributions.of([100.0, 50.0, 20.0]), p10) is None
    assert sensitive(Contributions.of([0.0, 0.0, 0.0]), p10) is None  # nobody stands out
    c = Contributions.of([3.0, -7.0, np.nan, 1.0])
    assert (c.persons, c.total, c.top) == (3, 11.0, (7.0, 3.0, 1.0))


def _facts(treated: int, positive: int, binary: bool = True, top: tuple[float, ...] = (1, 1, 1),
           total: float = 100.0, comparison: int = 100) -> dict[str, object]:  # fmt: skip
    row: dict[str, object] = {"sdc_binary": binary}
    for side, n in (("treated", treated), ("comparison", comparison)):
        row |= {f"sdc_{side}_persons": n, f"sdc_{side}_positive": positive if side == "treated"
                else n // 2, f"sdc_{side}_total": total}  # fmt: skip
        row |= {f"sdc_{side}_top{i + 1}": float(v) for i, v in enumerate(top)}
    return row


def test_estimate_rows_need_persons_shares_and_no_dominance() -> None:
    table = pd.DataFrame([
        _facts(200, 80),                        # fine
        _facts(2, 1),                           # too few clients
        _facts(200, 198),                       # a share reveals 2 who did not
        _facts(200, 0),                         # nobody: a zero count is publishable
        _facts(200, 150, binary=False, top=(5000, 4800, 10), total=10_000),  # dominated euros
    ])  # fmt: skip
    reasons = row_reasons(table, RuleSet("d", 3, (2, 90.0)))
    assert reasons[0] == "" and reasons[3] == ""
    assert "2 < 3 persons" in reasons[1]
    assert "a share reveals 2 < 3 persons" in reasons[2]
    assert "dominance" in reasons[4]


def test_a_hidden_subgroup_level_takes_a_sibling_with_it() -> None:
    # Levels of sex add up to the 60 clients: hiding only the small one would not hide it.
    levels = pd.DataFrame({"variable": ["sex", "sex", "age", "age", "age"],
                           "count": [2, 58, 20, 20, 20],
                           "suppression": ["primary", "", "", "", ""]})  # fmt: skip
    totals = {("sex",): 60.0, ("age",): 60.0}
    reasons = partition_secondary(levels, ["variable"], "count", totals, THREE, complete=True)
    assert reasons[1] != "" and all(r == "" for r in (reasons[0], *reasons[2:]))
    # When the rest of the whole is an unpublished reference category, it protects the level.
    reasons = partition_secondary(levels, ["variable"], "count", {("sex",): 100.0, ("age",): 100.0},
                                  THREE, complete=False)  # fmt: skip
    assert all(r == "" for r in reasons)


def test_the_flow_of_persons_hides_a_small_step_and_what_would_give_it_away() -> None:
    summary = {"flow": {"clients_in_window": 400, "clients_meeting_rules": 398, "treated": 398,
                        "treated_outside_support": 0, "treated_unmatched": 2,
                        "treated_compared": 396}, "headline": {}}  # fmt: skip
    effects = pd.DataFrame({"outcome": []})
    decisions: list = []
    flow = _summary(summary, effects, THREE, decisions)["flow"]
    assert flow["treated_unmatched"] is None
    assert flow["treated_compared"] is None or flow["treated"] is None
    # clients_excluded (400 − 398 = 2) is derived: one of its margins must be hidden, and the
    # clients meeting the rules are the clients in the analysis.
    meeting_hidden = flow["clients_meeting_rules"] is None and flow["treated"] is None
    assert flow["clients_in_window"] is None or meeting_hidden


def test_rule_sets_are_validated() -> None:
    assert rule_set("threshold_3").threshold == 3
    assert rule_set({"threshold": 4, "dominance": [2, 85]}).dominance == (2, 85)
    with pytest.raises(SpecError, match="unknown disclosure rules 'strict'"):
        rule_set("strict")
    with pytest.raises(SpecError, match="dominance"):
        RuleSet("bad", 3, (2, 120.0))
