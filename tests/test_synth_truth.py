"""The truth of the Espoo-scale world: planted effects, selection bias, and agreement between
truth.json and the registers it describes."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pyarrow.compute as pc
import pytest
from pyarrow import feather

from kotoeval.outcomes.subgroups import SUBGROUP_VARIABLES
from kotoeval.registers.codes import VOCATIONAL_PROGRAMMES
from kotoeval.synth import WorldSummary
from kotoeval.synth.truth import effects_over
from kotoeval.synth.world import CLIENT_TRUTH


def test_headline_population(espoo: WorldSummary) -> None:
    assert 280_000 < espoo.residents < 305_000
    assert 0.17 < espoo.foreign_language_share < 0.20


def test_programmes_take_their_clients(espoo: WorldSummary) -> None:
    oske = espoo.truth["oske"]["clients_by_entry_year"]
    assert sorted(oske) == [str(y) for y in range(2019, 2025)]
    assert all(520 < n < 700 for n in oske.values())
    koske = espoo.truth["koske"]["clients_by_entry_year"]
    assert min(koske) == "2021"


def test_completion_is_calibrated_to_the_evaluation(espoo: WorldSummary) -> None:
    completed = espoo.truth["oske"]["effects"]["vocational_completed_36m"]
    assert completed["n"] > 1_500
    assert 0.35 < completed["treated_mean"] < 0.41  # the study: about 38 %
    assert 0.24 < completed["counterfactual_mean"] < 0.30  # and about 27 %
    dropped = espoo.truth["oske"]["effects"]["vocational_dropped_36m"]
    assert 0 < dropped["att"] < 0.06  # clients also drop out a little more often


def test_education_pays(espoo: WorldSummary) -> None:
    document = json.loads((espoo.out / "truth.json").read_text())
    premium = document["education_premium"]
    assert 11_000 < premium["completed"]["eur_per_year"] < 16_000  # the study: about €13,000
    assert 6_000 < premium["dropped_out"]["eur_per_year"] < 11_000  # and about €8,500
    assert premium["completed"]["n"] > 1_000 and premium["dropped_out"]["n"] > 300


def test_naive_comparison_is_clearly_biased(espoo: WorldSummary) -> None:
    effects = espoo.truth["oske"]["effects"]
    earnings = effects["earnings_y2"]
    assert earnings["att"] > 0 > earnings["naive_difference"]
    assert abs(earnings["naive_difference"] - earnings["att"]) > 1_000
    completed = effects["vocational_completed_36m"]
    assert abs(completed["naive_difference"] - completed["att"]) > 0.03


def test_lock_in_then_gains(espoo: WorldSummary) -> None:
    oske = espoo.truth["oske"]
    assert oske["effects"]["earnings_y1"]["att"] < 0
    assert oske["effects"]["earnings_y3"]["att"] > oske["effects"]["earnings_y2"]["att"] > 0
    assert oske["effects"]["unemployment_benefit_months_y3"]["att"] < 0
    path = {p["month"]: p for p in oske["paths"]["earnings"]}
    assert all(path[m]["effect"] == 0 for m in range(-24, 0))  # no effect before entry
    assert path[2]["effect"] < 0 < path[30]["effect"]
    koske = espoo.truth["koske"]["effects"]
    assert koske["expert_share_y2"]["att"] > 0.05  # KOSKE raises expert-occupation work


def test_effects_differ_by_subgroup(espoo: WorldSummary) -> None:
    groups = espoo.truth["oske"]["subgroups"]
    by_age = groups["age_band"]
    total = espoo.truth["oske"]["effects"]["earnings_y2"]["n"]
    assert sum(g["earnings_y2"]["n"] for g in by_age.values()) == total
    assert by_age["18_29"]["earnings_y2"]["att"] > by_age["45_64"]["earnings_y2"]["att"]
    region = groups["world_region"]
    assert region["mena"]["earnings_y3"]["att"] > region["eu_efta"]["earnings_y3"]["att"]
    assert tuple(groups) == SUBGROUP_VARIABLES


def test_truth_agrees_with_the_registers(espoo: WorldSummary) -> None:
    """Recompute the clients' observed outcomes from the CSV files with SQL."""
    world = espoo.out
    vocational = ", ".join(f"'{p}'" for p in VOCATIONAL_PROGRAMMES)
    month = "((year({d}) - 2012) * 12 + month({d}) - 1)"
    con = duckdb.connect()
    con.execute(f"""
        create view clients as
        select hetu, {month.format(d="cast(start_date as date)")} as entry
        from read_csv('{world / "services.csv"}', all_varchar=true) where service = 'oske'
    """)
    completed, n = con.execute(f"""
        with done as (
            select hetu, {month.format(d="cast(end_date as date)")} as m
            from read_csv('{world / "education.csv"}', all_varchar=true)
            where programme in ({vocational}) and outcome = 'completed'
        )
        select avg(case when exists (
            select 1 from done where done.hetu = c.hetu and done.m between c.entry and c.entry + 35
        ) then 1.0 else 0.0 end), count(*)
        from clients c where c.entry + 35 <= 155
    """).fetchone()
    truth = espoo.truth["oske"]["effects"]["vocational_completed_36m"]
    assert n == truth["n"]
    assert completed == pytest.approx(truth["treated_mean"], rel=1e-5)
    earnings_y2, n2 = con.execute(f"""
        with pay as (
            select hetu, {month.format(d="cast(month || '-01' as date)")} as m,
                   cast(wages_eur as double) as eur
            from read_csv('{world / "earnings.csv"}', all_varchar=true)
        )
        select avg(coalesce(s, 0)), count(*) from clients c
        left join (
            select c.hetu, sum(eur) as s from clients c join pay p
            on p.hetu = c.hetu and p.m between c.entry + 12 and c.entry + 23 group by c.hetu
        ) using (hetu)
        where c.entry + 23 <= 155
    """).fetchone()
    truth = espoo.truth["oske"]["effects"]["earnings_y2"]
    assert n2 == truth["n"]
    assert earnings_y2 == pytest.approx(truth["treated_mean"], rel=1e-5)


def test_truth_file_documents_itself(espoo: WorldSummary) -> None:
    document = json.loads((espoo.out / "truth.json").read_text())
    assert document["scale"] == "espoo" and document["seed"] == 1
    assert "ATT" in document["estimand"]
    assert document["outcomes"]["expert_share_y2"]["ratio_of"] == [
        "expert_months_y2", "employed_months_y2",
    ]  # fmt: skip
    assert document["parameters"]["programmes"][0]["service"] == "oske"


def test_client_truth_gives_the_truth_over_any_set_of_clients(espoo: WorldSummary) -> None:
    """Over all clients the per-client file reproduces truth.json; over some, their own mean."""
    clients = feather.read_table(espoo.out / CLIENT_TRUTH)
    clients = clients.filter(pc.equal(clients["programme"], "oske"))
    assert clients.num_rows == espoo.truth["oske"]["clients"]
    everyone = effects_over(clients, np.ones(clients.num_rows, dtype=bool))
    for outcome, expected in espoo.truth["oske"]["effects"].items():
        for field in ("n", "treated_mean", "counterfactual_mean", "att"):
            assert everyone[outcome][field] == pytest.approx(expected[field], rel=1e-5), outcome
    born_on_even_days = np.array([int(code[:2]) % 2 == 0 for code in clients["hetu"].to_pylist()])
    some = effects_over(clients, born_on_even_days)["earnings_y2"]
    y1 = clients["earnings_y2|1"].to_numpy(zero_copy_only=False)[born_on_even_days]
    y0 = clients["earnings_y2|0"].to_numpy(zero_copy_only=False)[born_on_even_days]
    seen = ~np.isnan(y1)
    assert some["n"] == seen.sum() < everyone["earnings_y2"]["n"]
    assert some["att"] == pytest.approx((y1[seen] - y0[seen]).mean(), rel=1e-5)
