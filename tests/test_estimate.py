"""Estimators against hand-computed tiny fixtures, and against a simulated known effect."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from kotoeval.errors import SpecError
from kotoeval.estimate.balance import balance, ecdf_stats
from kotoeval.estimate.breakdown import _holm
from kotoeval.estimate.censoring import censoring_weights, remaining_probability
from kotoeval.estimate.compare import Options, adjust, compare
from kotoeval.estimate.effects import att
from kotoeval.estimate.matching import match_weights, nearest
from kotoeval.estimate.propensity import (
    design,
    pool_rare_levels,
    propensity,
    spline_basis,
    spline_terms,
)


def test_smd_variance_ratio_and_ecdf_by_hand() -> None:
    # treated 1,2,3 (mean 2, sd 1); comparison 2,4,6,8 (mean 5, variance 20/3)
    x = pd.DataFrame({"x": [1.0, 2, 3, 2, 4, 6, 8]})
    t = np.array([1, 1, 1, 0, 0, 0, 0], bool)
    row = balance(x, t, np.ones(7)).table.iloc[0]
    assert row["smd"] == pytest.approx(-3.0)
    assert row["variance_ratio"] == pytest.approx(1 / (20 / 3))
    # eCDFs over 1,2,3,4,6,8: treated 1/3,2/3,1,1,1,1; comparison 0,1/4,1/4,1/2,3/4,1
    assert row["ecdf_max"] == pytest.approx(0.75)
    assert row["ecdf_mean"] == pytest.approx(0.375)
    assert not row["balanced"]


def test_balance_of_a_binary_covariate_has_no_variance_ratio() -> None:
    x = pd.DataFrame({"b": [1.0, 0, 1, 0]})
    t = np.array([1, 1, 0, 0], bool)
    row = balance(x, t, np.ones(4)).table.iloc[0]
    assert row["binary"] and np.isnan(row["variance_ratio"])
    assert row["smd"] == pytest.approx(0.0) and row["balanced"]


def test_weighted_ecdf_counts_weights() -> None:
    x = np.array([1.0, 1, 2])
    t = np.array([True, False, False])
    mean, top = ecdf_stats(x, t, np.array([1.0, 1.0, 0.0]))
    assert (mean, top) == (0.0, 0.0)  # the weight-0 row does not count


@pytest.mark.parametrize(
    ("order", "pairs"),
    [("largest", {(0, 2), (1, 3)}), ("smallest", {(1, 2), (0, 3)})],
)
def test_greedy_order_decides_who_gets_the_close_control(
    order: str, pairs: set[tuple[int, int]]
) -> None:
    # treated 0.7 and 0.6 both want control 0.65; whoever goes first takes it.
    d = np.array([0.7, 0.6, 0.65, 0.2])
    t = np.array([1, 1, 0, 0], bool)
    m = nearest(d, t, caliper_sd=None, order=order)  # type: ignore[arg-type]
    assert set(zip(m.treated.tolist(), m.control.tolist(), strict=True)) == pairs


def test_ratio_two_gives_every_treated_its_first_match_first() -> None:
    d = np.array([0.7, 0.6, 0.65, 0.2, 0.9])
    t = np.array([1, 1, 0, 0, 0], bool)
    m = nearest(d, t, caliper_sd=None, ratio=2)
    # pass 1: 0.7→0.65, 0.6→0.9 (0.3 beats 0.4); pass 2: 0.7→0.2, nothing left for 0.6
    assert list(zip(m.treated.tolist(), m.control.tolist(), strict=True)) == [
        (0, 2), (1, 4), (0, 3),
    ]  # fmt: skip
    w = match_weights(m, 5)
    # set of row 0 has two controls (½ each), set of row 1 one (1); scaled to sum to 3
    assert w.tolist() == pytest.approx([1, 1, 0.5 * 1.5, 0.5 * 1.5, 1 * 1.5])


def test_caliper_and_exact_strata() -> None:
    d = np.array([0.0, 1.0, 0.05, 0.9, 5.0])
    t = np.array([1, 1, 0, 0, 0], bool)
    width = 0.2 * np.std(d, ddof=1)
    m = nearest(d, t, caliper_sd=0.2)
    assert m.caliper == pytest.approx(width)
    assert sorted(m.control.tolist()) == [2, 3]
    strata = np.array([0, 1, 1, 0, 1])
    m = nearest(d, t, caliper_sd=None, strata=strata)
    assert dict(zip(m.treated.tolist(), m.control.tolist(), strict=True)) == {0: 3, 1: 2}
    m = nearest(d, t, caliper_sd=0.01, strata=strata)
    assert len(m.treated) == 0 and sorted(m.unmatched_treated.tolist()) == [0, 1]


def test_a_person_is_used_once_when_asked() -> None:
    d = np.array([0.5, 0.4, 0.5, 0.41, 0.0])
    t = np.array([1, 1, 0, 0, 0], bool)
    person = np.array([0, 1, 7, 7, 8])  # both close controls are rows of one person
    m = nearest(d, t, caliper_sd=None, person=person)
    assert sorted(m.control.tolist()) == [2, 4]
    m = nearest(d, t, caliper_sd=None)
    assert sorted(m.control.tolist()) == [2, 3]


def test_with_replacement_a_control_serves_several() -> None:
    d = np.array([0.5, 0.52, 0.51, 0.0])
    t = np.array([1, 1, 0, 0], bool)
    m = nearest(d, t, caliper_sd=None, replace=True)
    assert m.control.tolist() == [2, 2]
    assert match_weights(m, 4).tolist() == pytest.approx([1, 1, 1, 0])


def test_att_and_its_cluster_robust_se_by_hand() -> None:
    # pairs (treated, control): (3, 1), (5, 2), (4, 4); ATT = 4 − 7/3 = 5/3.
    y = np.array([3.0, 5, 4, 1, 2, 4])
    t = np.array([1, 1, 1, 0, 0, 0], bool)
    cluster = np.array([0, 1, 2, 0, 1, 2])
    e = att(y, t, np.ones(6), cluster)
    assert e.att == pytest.approx(5 / 3)
    # cluster sums of influence values 1/9, 4/9, −5/9; CR1 factor 3/2 · 5/4
    assert e.se == pytest.approx(np.sqrt(15 / 8 * 42 / 81))
    assert e.ci_low == pytest.approx(5 / 3 - 1.959964 * e.se, rel=1e-6)
    assert e.relative == pytest.approx((5 / 3) / (7 / 3))


def test_att_se_clustered_by_matched_set_and_person_by_hand() -> None:
    # The pairs above, but the first two controls are one person at two months.
    y = np.array([3.0, 5, 4, 1, 2, 4])
    t = np.array([1, 1, 1, 0, 0, 0], bool)
    cluster = np.array([0, 1, 2, 0, 1, 2])
    person = np.array([0, 1, 2, 3, 3, 4])
    e = att(y, t, np.ones(6), cluster, person=person)
    assert e.att == pytest.approx(5 / 3)
    # Influence values −1/3, 1/3, 0 | 4/9, 1/9, −5/9. Squared sums by matched set (1/9, 4/9,
    # −5/9): 42/81; by person (−1/3, 1/3, 0, 5/9, −5/9): 68/81; by set × person (the rows):
    # 60/81. G/(G−1) of the smaller G (3 sets) and (N−1)/(N−K) = 5/4, as fixest has it.
    assert e.se == pytest.approx(np.sqrt(3 / 2 * 5 / 4 * (42 + 68 - 60) / 81))
    # Persons who each serve once leave the matched-set variance as it was.
    once = att(y, t, np.ones(6), cluster, person=np.arange(6))
    assert once.se == pytest.approx(att(y, t, np.ones(6), cluster).se)


def test_ratio_outcome_is_a_ratio_of_group_sums() -> None:
    num = np.array([1.0, 2, 0, 1])
    den = np.array([2.0, 2, 4, 4])
    t = np.array([1, 1, 0, 0], bool)
    e = att(num, t, np.ones(4), np.array([0, 1, 0, 1]), denominator=den)
    assert e.treated_mean == pytest.approx(3 / 4)
    assert e.comparison_mean == pytest.approx(1 / 8)


def test_regression_adjustment_equals_difference_when_covariate_is_balanced() -> None:
    y = np.array([3.0, 5, 1, 2])
    t = np.array([1, 1, 0, 0], bool)
    x = np.array([[0.0], [1.0], [0.0], [1.0]])
    plain = att(y, t, np.ones(4), np.array([0, 1, 0, 1]))
    adjusted = att(y, t, np.ones(4), np.array([0, 1, 0, 1]), adjust=x)
    assert adjusted.att == pytest.approx(plain.att)


def test_restricted_cubic_splines_match_hmisc() -> None:
    """Reference: R 4, Hmisc ``rcspline.eval(c(0,1,2,3,5,8,13,21,34), knots = c(1,4,10,30),
    inclx = FALSE)``."""
    x = np.array([0, 1, 2, 3, 5, 8, 13, 21, 34], float)
    hmisc = [
        [0, 0], [0, 0], [0.00118906064209275, 0], [0.00951248513674198, 0],
        [0.07609988109393583, 0.00118906064209275], [0.40784780023781236, 0.07609988109393583],
        [2.00814506539833593, 0.82508917954815719], [7.21765755053508151, 3.78442330558858675],
        [18.93103448275864054, 10.75862068965517437],
    ]  # fmt: skip
    np.testing.assert_allclose(spline_basis(x, np.array([1, 4, 10, 30.0])), hmisc, atol=1e-12)


def test_spline_terms_skip_indicators_and_merge_tied_knots() -> None:
    X = pd.DataFrame({
        "flag": [0, 1] * 10,
        "mostly_zero": [0.0] * 10 + [1, 2, 3, 50, 100, 7, 4, 5, 6, 8],
        "spread": np.arange(20.0),
    })  # fmt: skip
    out = spline_terms(X, 4)
    # 4 knots on "spread" give 2 spline columns; on "mostly_zero" the 5 % and 35 % quantiles
    # are both 0, so 3 knots remain and give 1; the indicator stays as it is.
    assert list(out.columns) == ["flag", "mostly_zero", "spread", "mostly_zero'1", "spread'1",
                                 "spread'2"]  # fmt: skip
    with pytest.raises(SpecError, match="spline knots must be one of 3, 4, 5, 6, 7, not 9"):
        spline_terms(X, 9)


def test_logit_is_the_maximum_likelihood_fit_and_ignores_repeated_columns() -> None:
    from sklearn.linear_model import LogisticRegression

    df = _simulated(2000)
    t = df["treated"].to_numpy()
    X = design(df, ["x1", "x2"])
    direct = LogisticRegression(C=np.inf, tol=1e-10).fit(X, t).predict_proba(X)[:, 1]
    np.testing.assert_allclose(propensity(X, t).score, direct, atol=1e-6)
    repeated = X.assign(x1_again=2 * X["x1"] + 1)
    np.testing.assert_allclose(propensity(repeated, t).score, direct, atol=1e-6)


def test_leaving_a_person_out_matches_refitting_without_them() -> None:
    """The one-step score of a person's rows is the refit without the person, to 1 %."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    person = np.repeat(np.arange(60), 5)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300) + 0.3 * (person % 3)})
    t = rng.random(300) < 1 / (1 + np.exp(-(-1 + X["a"] + 0.5 * X["b"])))
    refit = np.empty(300)
    for k in range(60):
        out = person == k
        model = LogisticRegression(C=np.inf, tol=1e-10).fit(X[~out], t[~out])
        refit[out] = model.decision_function(X[out])
    one_step = propensity(X, t, leave_out=person).logit
    in_sample = propensity(X, t).logit
    # Each person is 1/60 of the data: off by at most 0.008 against 0.125 in-sample.
    assert np.abs(one_step - refit).max() < 0.01 < 0.1 < np.abs(in_sample - refit).max()
    # Gradient boosting cannot take a Newton step: it is cross-fitted over folds of persons.
    boosted = propensity(X, t, "gbm", leave_out=person).score
    assert boosted.shape == (300,) and np.isfinite(boosted).all()


def test_splines_recover_a_selection_that_bends() -> None:
    """Selection that stops rising at x = 3: the linear logit misses it, the spline logit not."""
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 10, 20_000)
    true = 1 / (1 + np.exp(-(-3 + 1.2 * np.minimum(x, 3))))
    treated = rng.random(len(x)) < true
    X = design(pd.DataFrame({"x": x}), ["x"])
    linear = np.abs(propensity(X, treated).score - true).mean()
    curved = np.abs(propensity(X, treated, splines=5).score - true).mean()
    assert curved < 0.2 * linear  # about 0.011 against 0.108


def test_rare_levels_are_pooled_by_their_count_of_treated() -> None:
    table = pd.DataFrame({
        "lang": ["fi", "fi", "fi", "so", "so", "ro", "ro", None],
        "age": [30, 40, 50, 30, 40, 50, 30, 40],
        "female": [True, False, True, False, True, False, True, False],
    })  # fmt: skip
    treated = np.array([1, 1, 0, 1, 0, 0, 0, 1], bool)
    pooled, counts = pool_rare_levels(table, ["lang", "age", "female"], treated, 2)
    # fi has 2 treated and stays; so (1), ro (0) and the missing level (1) are pooled.
    assert pooled["lang"].tolist() == ["fi", "fi", "fi"] + ["(other)"] * 5
    assert counts == {"lang": 3}
    pd.testing.assert_frame_equal(pooled[["age", "female"]], table[["age", "female"]])
    same, none = pool_rare_levels(table, ["lang"], treated, 0)
    assert same is table and none == {}
    assert table["lang"].tolist()[3] == "so"  # the input is left as it was


def test_adjust_pools_rare_levels_in_the_score_and_the_balance_only() -> None:
    df = _simulated(2000)
    rare = np.flatnonzero(df["treated"].to_numpy())[:3]
    df["group"] = np.where(df.index.isin(rare), "rare", np.where(df["x1"] > 0, "a", "b"))
    plain = adjust(df, "treated", ["x1", "x2", "group"])
    lumped = adjust(df, "treated", ["x1", "x2", "group"], Options(rare_levels=10))
    assert "group=rare" in plain.X.columns
    assert "group=rare" not in lumped.X.columns and lumped.pooled == {"group": 1}
    assert (lumped.table["group"] == "rare").sum() == 3  # the returned rows keep their values


def test_censoring_weights_by_hand() -> None:
    rows = pd.DataFrame({"pid": ["a", "b"], "m": [10, 10]})
    hazards = pd.DataFrame({"pid": ["a", "a", "b"], "m": [11, 12, 11], "score": [0.5, 0.5, 0.2]})
    remaining = remaining_probability(rows, hazards, 3)
    assert remaining[0].tolist() == pytest.approx([1, 0.5, 0.25, 0.25])
    assert remaining[1].tolist() == pytest.approx([1, 0.8, 0.8, 0.8])
    w = censoring_weights(remaining, np.array([np.nan, 2.0]), 2)
    assert w.tolist() == pytest.approx([4.0, 0.0])  # b entered in month 2: censored


def test_holm() -> None:
    assert _holm(np.array([0.01, 0.04, 0.03, np.nan])).tolist()[:3] == pytest.approx(
        [0.03, 0.06, 0.06]
    )


def _simulated(n: int = 6000, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, n)
    treated = rng.random(n) < 1 / (1 + np.exp(-(-2.5 + 0.8 * x1 + 0.5 * x2)))
    y = 1 + 2 * x1 + x2 + 1.5 * treated + rng.normal(size=n)
    return pd.DataFrame({"treated": treated, "x1": x1, "x2": x2, "y": y})


@pytest.mark.parametrize("method", ["nearest", "ipw", "entropy"])
def test_compare_recovers_a_known_effect_where_the_naive_difference_does_not(method: str) -> None:
    df = _simulated()
    result = compare(df, "treated", ["x1", "x2"], ["y"], Options(method=method))  # type: ignore[arg-type]
    row = result.effects.iloc[0]
    assert row["ci_low"] <= 1.5 <= row["ci_high"]
    naive = df.y[df.treated].mean() - df.y[~df.treated].mean()
    assert not row["ci_low"] <= naive <= row["ci_high"]
    assert result.status == "balanced"


def test_compare_accepts_arrow_and_names_missing_columns() -> None:
    import pyarrow as pa

    table = pa.Table.from_pandas(_simulated(800))
    assert len(compare(table, "treated", ["x1"], ["y"]).effects) == 1
    with pytest.raises(SpecError, match="covariates not in the table: x9"):
        compare(table, "treated", ["x9"], ["y"])
    with pytest.raises(SpecError, match="method must be one of"):
        compare(table, "treated", ["x1"], ["y"], Options(method="magic"))  # type: ignore[arg-type]


def test_nearest_neighbour_coverage_and_bias_over_60_samples() -> None:
    """The fast version of the study's coverage check, on samples with a known effect of 1.5."""
    hits, estimates = [], []
    for seed in range(100, 160):
        row = compare(_simulated(3000, seed), "treated", ["x1", "x2"], ["y"]).effects.iloc[0]
        hits.append(row["ci_low"] <= 1.5 <= row["ci_high"])
        estimates.append(row["att"])
    assert 0.88 <= np.mean(hits) <= 0.99
    assert abs(np.mean(estimates) - 1.5) / 1.5 < 0.10


def test_event_study_recovers_a_step() -> None:
    from kotoeval.estimate.event_study import event_study

    rng = np.random.default_rng(3)
    n, months = 400, np.arange(-3, 4)
    treated = np.arange(n) < n // 2
    step = 0.5 * (treated[:, None] & (months[None, :] >= 0))
    unit = rng.normal(size=(n, 1))
    panel = {"earnings": unit + step + rng.normal(0, 0.2, (n, len(months)))}
    monthly, phases = event_study(
        panel, months, treated, np.ones(n), np.arange(n) % (n // 2),
        {"before": (-3, -2), "after": (0, 3)}, variables=("earnings",),
    )  # fmt: skip
    after = phases.set_index("phase").loc["after"]
    assert after["ci_low"] <= 0.5 <= after["ci_high"]
    assert abs(phases.set_index("phase").loc["before", "estimate"]) < 0.05
    assert monthly.set_index("month").loc[-1, "estimate"] == 0.0


@pytest.fixture
def root_logger_kept() -> Iterator[None]:
    """pyfixest calls ``logging.basicConfig(level=INFO)`` when first imported; undo it."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(("seed", "two_way"), [(1, False), (2, False), (3, True), (4, True)])
def test_event_study_matches_pyfixest(seed: int, two_way: bool, root_logger_kept: None) -> None:
    """The closed-form fit against ``feols("y ~ i(month, treat, ref=-1) | unit + month")``.

    Unbalanced (missing months), with weights that differ within a unit (censoring), zero
    weights, singleton units, matched sets holding clients and comparisons, and (two-way)
    persons who are several units.
    """
    import pyfixest as pf

    from kotoeval.estimate.event_study import _fit

    rng = np.random.default_rng(seed)
    n, months = 300, np.arange(-4, 6)
    treated = rng.random(n) < 0.3
    cluster = np.where(treated, np.arange(n), rng.integers(0, n, n))
    person = rng.integers(0, n // 3, n)
    y = (
        rng.normal(size=(n, 1))
        + rng.normal(size=(1, len(months)))
        + rng.normal(size=(n, len(months)))
    )
    y += treated[:, None] * (months[None, :] >= 0) * 0.7
    y[rng.random(y.shape) < 0.15] = np.nan
    y[:5, 1:] = np.nan  # singletons
    w = rng.uniform(0.2, 3.0, n)[:, None] * np.where(
        treated[:, None], 1.0, rng.uniform(0.5, 1.5, y.shape)
    )
    w[rng.random(y.shape) < 0.05] = 0.0
    mine = _fit(y, months, treated, w, cluster, person if two_way else None)

    frame = pd.DataFrame({
        "y": y.ravel(), "unit": np.repeat(np.arange(n), len(months)),
        "month": np.tile(months, n), "treat": np.repeat(treated.astype(int), len(months)),
        "w": w.ravel(), "cluster": np.repeat(cluster, len(months)),
        "person": np.repeat(person, len(months)),
    })  # fmt: skip
    frame = frame[(frame["w"] > 0) & frame["y"].notna()]
    with pytest.warns(UserWarning, match="singleton fixed effect"):  # the fixture has some
        fit = pf.feols(
            "y ~ i(month, treat, ref=-1) | unit + month", data=frame, weights="w",
            vcov={"CRV1": "cluster+person" if two_way else "cluster"},
        )  # fmt: skip
    # pyfixest names the coefficients "month::<k>:treat", in the order of the months.
    assert list(fit.coef().index) == [f"month::{m}:treat" for m in mine.months]
    np.testing.assert_allclose(mine.coef, fit.coef(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(mine.vcov, np.asarray(fit._vcov), rtol=1e-5, atol=1e-12)


def test_entry_hazard_matches_each_months_entries() -> None:
    from kotoeval.estimate.censoring import entry_hazard

    rng = np.random.default_rng(5)
    month = np.repeat([0, 1, 2], 400)
    logit = rng.normal(-3, 1, len(month))
    entered = np.zeros(len(month), bool)
    entered[[1, 2, 3]] = True  # month 0: three entries; month 1: ten; month 2: none
    entered[400:410] = True
    hazard = entry_hazard(logit, entered, month)
    assert hazard[month == 0].sum() == pytest.approx(3, abs=1e-6)
    assert hazard[month == 1].sum() == pytest.approx(10, abs=1e-6)
    assert (hazard[month == 2] == 0).all()
    # within a month the hazard keeps the order of the score
    assert np.all(np.diff(hazard[month == 1][np.argsort(logit[month == 1])]) >= 0)
