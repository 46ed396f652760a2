"""Release bundles and the report: what crosses the wall, and how it reads on the other side."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib import image

from kotoeval.disclose.bundle import MANIFEST, read_bundle, remove_bundle
from kotoeval.disclose.rules import PRESETS
from kotoeval.errors import DisclosureError
from kotoeval.i18n import LANGUAGES, Texts
from kotoeval.report.html import render, write_report
from kotoeval.report.pdf import rendered_text, screenshot, to_pdf
from kotoeval.study.release import release_study
from tests.helpers import Studied, open_warehouse_file

COUNT_COLUMNS = ("n_treated", "n_comparison", "persons")


@pytest.fixture(scope="module")
def bundle(small: Studied, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "oske-release"
    return release_study(small.results["oske"].folder, out)


def test_bundle_has_manifest_tables_figures_and_log(small: Studied, bundle: Path) -> None:
    b = read_bundle(bundle)
    m = b.manifest
    assert m["kind"] == "study" and m["spec"]["name"] == "oske"
    assert m["rules"]["name"] == "threshold_5" and m["kotoeval_version"]
    assert re.match(r"\d{4}-\d\d-\d\dT", m["released_at"])
    warehouse = small.results["oske"].folder.parent / "warehouse.duckdb"
    with open_warehouse_file(warehouse) as con:
        loads = dict(con.execute("select register, fingerprint from loads").fetchall())
    assert {r: v["fingerprint"] for r, v in m["inputs"].items()} == loads
    for name, table in b.tables.items():
        csv = pd.read_csv(bundle / "tables" / f"{name}.csv")
        assert len(csv) == len(table) and list(csv.columns) == list(table.columns)
    assert {"love_plot", "trajectories", "income_build_up"} <= set(b.figures)
    log = b.log.strip().splitlines()
    assert log[0].split("\t") == ["table", "cell", "kind", "rule", "detail"]
    assert len(log) - 1 == m["suppressed_cells"]
    hidden = sum(
        (t.get("suppression", pd.Series(dtype=str)) != "").sum() for t in b.tables.values()
    )
    flow_hidden = sum(v is None for v in m["summary"]["flow"].values())
    assert len(log) - 1 >= hidden + flow_hidden > 0  # the small world has small cells


def test_no_person_level_row_leaves_in_any_kind_of_output(small: Studied, bundle: Path) -> None:
    b = read_bundle(bundle)
    warehouse = small.results["oske"].folder.parent / "warehouse.duckdb"
    with open_warehouse_file(warehouse) as con:
        pids = {p for (p,) in con.execute("select pid from population").fetchall()}
    threshold = PRESETS["threshold_5"].threshold
    for name, table in b.tables.items():
        assert not any(c.startswith("sdc_") or c.lower() in {"pid", "hetu"} for c in table.columns)
        for column in table.columns:
            if table[column].dtype == object:
                assert not pids & set(table[column].dropna().astype(str)), (name, column)
        shown = table[table["suppression"] == ""] if "suppression" in table else table
        for column in COUNT_COLUMNS:
            if column in shown:
                counts = pd.to_numeric(shown[column], errors="coerce").dropna()
                assert ((counts == 0) | (counts >= threshold)).all(), (name, column)
    for value in b.manifest["summary"]["flow"].values():
        assert value is None or value == 0 or value >= threshold
    text = "".join(p.read_text(encoding="utf-8") for p in bundle.rglob("*") if p.suffix in
                   (".csv", ".json", ".log"))  # fmt: skip
    assert not any(p in text for p in list(pids)[:2000])


def test_a_share_never_reveals_a_small_count(bundle: Path) -> None:
    b = read_bundle(bundle)
    effects = b.tables["effects"]
    shares = effects[effects["outcome"].str.startswith("vocational_")]
    shown = shares[shares["suppression"] == ""]
    counts = (shown["treated_mean"].astype(float) * shown["n_treated"].astype(float)).round()
    assert ((counts == 0) | (counts >= 5)).all()
    assert ((shown["n_treated"].astype(float) - counts).pipe(lambda n: (n == 0) | (n >= 5))).all()


def test_bundles_are_immutable(small: Studied, bundle: Path, tmp_path: Path) -> None:
    with pytest.raises(DisclosureError, match="bundles are immutable"):
        release_study(small.results["oske"].folder, bundle)
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(bundle), str(copy)], check=True)  # noqa: S603, S607
    effects = copy / "tables" / "effects.csv"
    effects.chmod(0o644)
    effects.write_text(effects.read_text(encoding="utf-8") + "1,2,3\n", encoding="utf-8")
    with pytest.raises(DisclosureError, match="effects.csv differs from its release"):
        read_bundle(copy)
    remove_bundle(copy)
    assert not copy.exists()
    with pytest.raises(DisclosureError, match="not a release bundle"):
        read_bundle(tmp_path)


def test_results_without_their_tables_are_not_released(tmp_path: Path) -> None:
    with pytest.raises(DisclosureError, match="not a study results folder"):
        release_study(tmp_path, tmp_path / "out")


# ---- the report -----------------------------------------------------------------------------


def _key_numbers(bundle: Path, lang: str) -> list[str]:
    """The headline figures as the report must write them."""
    b = read_bundle(bundle)
    t = Texts(lang)
    effects = b.tables["effects"].set_index("outcome")
    completed = effects.loc["vocational_completed_36m"]
    earnings = effects.loc["earnings_y2"]
    return [
        t("unit.percent", value=t.number(100 * float(completed["treated_mean"]))),
        t("unit.percent", value=t.number(100 * float(completed["comparison_mean"]))),
        t.number(float(earnings["treated_mean"])),
        t.number(float(earnings["comparison_mean"])),
    ]


def test_report_in_every_language_is_standalone_and_says_the_numbers(bundle: Path) -> None:
    b = read_bundle(bundle)
    titles = set()
    for lang in LANGUAGES:
        html = render(b, lang)
        assert f'<html lang="{lang}">' in html
        assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing fetched: opens offline
        for number in _key_numbers(bundle, lang):
            assert number in html, (lang, number)
        titles.add(re.search(r"<h2>([^<]+)</h2>", html).group(1))  # type: ignore[union-attr]
    assert len(titles) == 3  # the summary heading differs in fi, sv and en


def test_report_renders_in_headless_chromium_and_prints_the_same_pdf(
    bundle: Path, tmp_path: Path
) -> None:
    html = write_report(read_bundle(bundle), "fi", tmp_path / "oske_fi.html")
    shot = screenshot(html, tmp_path / "oske_fi.png", height=1600)
    pixels = image.imread(str(shot))
    assert pixels.shape[0] == 1600 and float(np.std(pixels)) > 0.05  # not a blank page
    dom = rendered_text(html).replace("&nbsp;", "\xa0")
    numbers = _key_numbers(bundle, "fi")
    for number in numbers:
        assert number in dom
    pdf = to_pdf(html, tmp_path / "oske_fi.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,  # noqa: S603, S607
                          text=True, check=True).stdout  # fmt: skip
    flat = re.sub(r"\s+", " ", text)
    for number in numbers:
        assert re.sub(r"\s+", " ", number) in flat
    for section in ("Tiivistelmä", "Ryhmien tasapaino", "Vaikutukset ryhmittäin", "Tietosuoja"):
        assert section in flat


def test_manifest_is_valid_json_without_nan(bundle: Path) -> None:
    text = (bundle / MANIFEST).read_text(encoding="utf-8")
    assert "NaN" not in text
    json.loads(text)
