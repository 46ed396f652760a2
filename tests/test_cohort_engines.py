"""One code path: the OSKE cohort and its panel built on DuckDB and on local Spark are the same."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kotoeval.cohort.build import candidates
from kotoeval.cohort.panel import data_months, panel
from kotoeval.ingest.run import ingest
from kotoeval.study.spec import EXAMPLES, load_spec
from kotoeval.synth import WorldSummary
from kotoeval.warehouse import open_warehouse


def _cohort(warehouse: Path, engine: str) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict]:
    spec = load_spec(EXAMPLES / "oske.toml")
    wh = open_warehouse(warehouse, engine)  # type: ignore[arg-type]
    try:
        cand = candidates(wh.table, wh.engine, spec.cohort())
        rows = cand.rows.to_pandas().sort_values(["pid", "m"]).reset_index(drop=True)
        some = rows.iloc[:: max(len(rows) // 300, 1)].reset_index(drop=True)
        pan = panel(wh.table, some, -24, 36, data_months(wh.table), some["end_m"].to_numpy(float))
        return rows, pan, cand.flow
    finally:
        wh.close()


def test_oske_cohort_is_the_same_on_duckdb_and_spark(
    tiny: WorldSummary, key: Path, tmp_path: Path
) -> None:
    if shutil.which("java") is None:
        pytest.fail("Java is missing: `make test` installs it (openjdk-17-jre-headless)")
    warehouse = tmp_path / "warehouse"  # a Parquet dataset, which both engines read
    ingest(tiny.out, warehouse, key)
    duck_rows, duck_panel, duck_flow = _cohort(warehouse, "duckdb")
    spark_rows, spark_panel, spark_flow = _cohort(warehouse, "spark")
    assert len(duck_rows) > 100 and duck_flow == spark_flow
    columns = sorted(duck_rows.columns)
    pd.testing.assert_frame_equal(
        duck_rows[columns], spark_rows[columns], check_dtype=False, check_exact=False
    )
    assert duck_panel.keys() == spark_panel.keys()
    for name, values in duck_panel.items():
        np.testing.assert_allclose(values, spark_panel[name], equal_nan=True, err_msg=name)
