"""The highest degree at the index month: the previous 31 December's, raised by degrees since."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd

from kotoeval.cohort.build import degree_at_month

Y = 2022
JAN, MAR, APR, JUN = (Y * 12 + k for k in (0, 2, 3, 5))


def _education() -> pd.DataFrame:
    rows = [
        # pid, programme, field, end date, outcome
        ("a", "vocational_upper_secondary", "07", dt.date(Y, 3, 20), "completed"),
        ("b", "vocational_further", "04", dt.date(Y, 2, 10), "completed"),
        ("c", "vocational_upper_secondary", "07", dt.date(Y - 1, 12, 15), "completed"),
        ("d", "vocational_upper_secondary", "07", dt.date(Y, 1, 31), "dropped_out"),
        ("d", "preparatory", "00", dt.date(Y, 1, 31), "completed"),
        ("e", "general_upper_secondary", "00", dt.date(Y, 2, 1), "completed"),
        ("e", "university_bachelor", "06", dt.date(Y, 5, 30), "completed"),
        ("f", "vocational_upper_secondary", "10", None, "ongoing"),
        ("g", "vocational_upper_secondary", "07", None, "completed"),  # no end date to date it
    ]
    return pd.DataFrame(rows, columns=["pid", "programme", "field", "end_date", "outcome"])


def _at(rows: list[tuple[str, int, int | None, str | None]]) -> pd.DataFrame:
    tables = {"education": ibis.memtable(_education())}
    people = pd.DataFrame(rows, columns=["pid", "m", "education_level", "education_field"])
    people["education_level"] = people["education_level"].astype("Int64")
    out = degree_at_month(tables.__getitem__, ibis.memtable(people)).to_pandas()
    return out.sort_values(["pid", "m"]).reset_index(drop=True)


def test_degrees_completed_since_the_previous_31_december_raise_the_level() -> None:
    out = _at(
        [
            ("a", MAR, None, None),  # completed in March: not yet at the start of March
            ("a", APR, None, None),  # ... but at the start of April
            ("b", JUN, 7, "02"),  # a master's on 31 December outranks a later vocational one
            ("c", JAN, None, None),  # completed in December: the register's own level holds it
            ("d", JUN, None, None),  # a dropped right and a programme without a degree
            ("e", MAR, None, None),  # general upper secondary in February
            ("e", JUN, None, None),  # then a bachelor's in May: the highest counts
            ("f", JUN, 3, "07"),  # an ongoing right changes nothing
        ]
    )
    levels = [None if pd.isna(v) else int(v) for v in out["education_level"]]
    assert levels == [None, 3, 7, None, None, 3, 6, 3]
    assert out["education_field"].tolist() == [None, "07", "02", None, None, "00", "06", "07"]
    assert len(out) == 8  # one row per person-month, whatever the number of degrees


def test_a_completed_right_without_an_end_date_raises_nothing() -> None:
    out = _at([("g", JUN, None, None)])
    assert out["education_level"].isna().all()
