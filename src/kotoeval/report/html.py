"""The evaluation report: one standalone HTML file from a release bundle.

Everything is inline (styles, figures as SVG), so it opens offline and prints to PDF as it
is. Text comes from the translation catalogue; numbers are written the language's way.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Callable, Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from kotoeval.disclose.bundle import Bundle
from kotoeval.i18n import Texts
from kotoeval.outcomes import OUTCOMES
from kotoeval.report.figures import forest_plot, love_plot, trajectory_plot, waterfall

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 62rem; margin: 2rem auto;
       padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; font-size: 1.25rem;
  border-bottom: 2px solid #1f5fa8; padding-bottom: 0.2rem; }
.meta { color: #555; font-size: 0.85rem; }
.summary { background: #eef4fb; border-left: 4px solid #1f5fa8; padding: 0.6rem 1rem; }
.summary p { margin: 0.5rem 0; font-size: 1.05rem; }
.warning { background: #fdecea; border-left: 4px solid #b22222; padding: 0.6rem 1rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.82rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f4f4f4; }
td.withheld { color: #888; font-style: italic; }
figure { margin: 1rem 0; } figure img { max-width: 100%; }
nav ol { columns: 2; font-size: 0.9rem; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
  figure, table { break-inside: avoid; } nav { display: none; } }
"""

SECTIONS = (
    "summary", "flow", "balance", "effects", "trajectories", "phases", "subgroups", "income",
    "methods", "data", "disclosure",
)  # fmt: skip


def render(bundle: Bundle, lang: str) -> str:
    """The whole report as HTML text."""
    t = Texts(lang)
    m = bundle.manifest
    with tempfile.TemporaryDirectory() as tmp:
        figures = _figures(bundle, t, Path(tmp))
    parts = [
        f"<h1>{escape(m['title'])}</h1>",
        f"<p class=meta>{escape(t('report.title'))} · "
        + escape(t("report.released", date=m["released_at"][:10], rules=m["rules"]["name"],
                   version=m["kotoeval_version"]))
        + "</p>",
        "<nav><h3>" + escape(t("report.section.contents")) + "</h3><ol>"
        + "".join(f'<li><a href="#{s}">{escape(t(f"report.section.{s}"))}</a></li>'
                  for s in SECTIONS)
        + "</ol></nav>",
        *(_SECTION_WRITERS[s](bundle, t, figures) for s in SECTIONS),
    ]  # fmt: skip
    return (
        f'<!DOCTYPE html>\n<html lang="{t.lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(m['title'])} – {escape(t('report.title'))}</title>"
        f"<style>{STYLE}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n"
    )


def write_report(bundle: Bundle, lang: str, out: Path) -> Path:
    """Write the report of ``bundle`` in ``lang`` to ``out`` (an .html file)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(bundle, lang), encoding="utf-8")
    return out


# ---- sections ---------------------------------------------------------------------------


def _summary(b: Bundle, t: Texts, _f: dict[str, str]) -> str:
    m = b.manifest
    effects = b.tables["effects"].set_index("outcome")
    sentences = [
        _headline(o, effects.loc[o], t)
        for o in m["summary"].get("headline", {})
        if o in effects.index
    ]
    status = m["status"]
    if status == "balanced":
        note = f"<p>{escape(t('report.balanced'))}</p>"
    else:
        covariates = ", ".join(m["summary"].get("imbalanced_covariates", []))
        note = f"<p class=warning>{escape(t('report.imbalanced', covariates=covariates))}</p>"
    body = "".join(f"<p>{escape(s)}</p>" for s in sentences)
    return _section("summary", t, f"<p>{escape(t('report.summary_intro'))}</p>"
                    f"<div class=summary>{body}</div>{note}")  # fmt: skip


def _headline(outcome: str, row: pd.Series, t: Texts) -> str:
    """One plain sentence: '… 38% vs 27% …: +11 points, 40% more likely.' and its CI."""
    name = t.outcome(outcome)
    if _missing(row["att"]):
        return t("report.suppressed_sentence", outcome=name)
    unit = _unit(outcome)
    low, high = _value(row["ci_low"], unit, t), _value(row["ci_high"], unit, t)
    if unit == "share":
        rel = float(row["relative"])
        sentence = t(
            "report.share_sentence", outcome=name,
            treated=t("unit.percent", value=t.number(100 * row["treated_mean"])),
            comparison=t("unit.percent", value=t.number(100 * row["comparison_mean"])),
            difference=t.number(100 * row["att"], 0, sign=True),
            relative=t("unit.percent", value=t.number(abs(100 * rel))),
            direction=t("report.more_likely" if rel >= 0 else "report.less_likely"),
        )  # fmt: skip
        low, high = (t("unit.points", value=t.number(100 * row[c], 1, sign=True))
                     for c in ("ci_low", "ci_high"))  # fmt: skip
    else:
        sentence = t(
            "report.amount_sentence", outcome=name,
            treated=_value(row["treated_mean"], unit, t),
            comparison=_value(row["comparison_mean"], unit, t),
            difference=_value(row["att"], unit, t, sign=True),
            relative=t("unit.percent", value=t.number(100 * row["relative"], 0, sign=True)),
        )  # fmt: skip
    significant = float(row["ci_low"]) > 0 or float(row["ci_high"]) < 0
    ci = t("report.certain" if significant else "report.uncertain", low=low, high=high)
    return f"{sentence} {ci}"


def _flow(b: Bundle, t: Texts, _f: dict[str, str]) -> str:
    flow = b.manifest["summary"].get("flow", {})
    rows = [[t.get(f"report.flow.{k}", k), _count(v, t)] for k, v in flow.items()]
    return _section("flow", t, _table([t("report.column.step"), t("report.column.count")], rows))


def _balance(b: Bundle, t: Texts, f: dict[str, str]) -> str:
    bal = b.tables["balance"]
    wide = bal.pivot_table(index="covariate", columns="sample", values=["smd", "variance_ratio"],
                           aggfunc="first", dropna=False)  # fmt: skip
    rows = []
    for cov in bal["covariate"].drop_duplicates():
        get = lambda col, s, cov=cov: wide.loc[cov, (col, s)] if (col, s) in wide.columns else None  # noqa: E731
        rows.append([cov, _num(get("smd", "before"), t, 2), _num(get("smd", "after"), t, 2),
                     _num(get("variance_ratio", "after"), t, 2)])  # fmt: skip
    head = _heads(t, "covariate", "smd_before", "smd_after", "variance_ratio")
    return _section("balance", t, _figure(f["love_plot"]) + _table(head, rows))


def _effects(b: Bundle, t: Texts, _f: dict[str, str]) -> str:
    rows = []
    for r in b.tables["effects"].to_dict("records"):
        unit = _unit(r["outcome"])
        ci = "–" if _missing(r["ci_low"]) else (
            f"{_in_unit(r['ci_low'], unit, t)} … {_in_unit(r['ci_high'], unit, t)}"
        )  # fmt: skip
        rows.append([t.outcome(r["outcome"]), _count(r["n_treated"], t),
                     _count(r["n_comparison"], t), _in_unit(r["treated_mean"], unit, t),
                     _in_unit(r["comparison_mean"], unit, t), _in_unit(r["att"], unit, t, True),
                     ci, _percent(r["relative"], t)])  # fmt: skip
    head = _heads(t, "outcome", "n_treated", "n_comparison", "treated_mean", "comparison_mean",
                  "att", "ci", "relative")  # fmt: skip
    return _section("effects", t, _table(head, rows))


def _trajectories(b: Bundle, t: Texts, f: dict[str, str]) -> str:
    return _section(
        "trajectories",
        t,
        f"<p>{escape(t('report.trajectories_note'))}</p>" + _figure(f["trajectories"]),
    )


def _phases(b: Bundle, t: Texts, _f: dict[str, str]) -> str:
    rows = [
        [t.get(f"report.variable.{r['variable']}", r["variable"]),
         t.get(f"report.phase.{r['phase']}", r["phase"]), f"{r['first_month']}…{r['last_month']}",
         _num(r["estimate"], t, 2, sign=True), _ci(r, t, 2)]
        for r in b.tables["phases"].to_dict("records")
    ]  # fmt: skip
    head = _heads(t, "variable", "phase", "months", "estimate", "ci")
    return _section("phases", t, _table(head, rows))


def _subgroups(b: Bundle, t: Texts, f: dict[str, str]) -> str:
    sub = b.tables["subgroups"]
    minimum = b.manifest["spec"]["subgroups"]["min_treated"]
    parts = [f"<p>{escape(t('report.subgroups_note', min=minimum))}</p>"]
    for outcome in sub["outcome"].unique():
        figure = _figure(f[f"subgroups_{outcome}"])
        parts.append(f"<h3>{escape(t.outcome(outcome))}</h3>{figure}")
        rows = []
        for r in sub[sub["outcome"] == outcome].to_dict("records"):
            flag = t("report.column.underpowered") if r.get("underpowered") is True else ""
            rows.append([t.get(f"report.subgroup.{r['variable']}", r["variable"]),
                         t.get(f"report.subgroup.{r['level']}", str(r["level"])),
                         _count(r["n_treated"], t), _in_unit(r["att"], _unit(outcome), t, True),
                         _num(r["p_holm"], t, 3), flag])  # fmt: skip
        head = [*_heads(t, "variable", "level", "n_treated", "att", "p_holm"), ""]
        parts.append(_table(head, rows))
    return _section("subgroups", t, "".join(parts))


def _income(b: Bundle, t: Texts, f: dict[str, str]) -> str:
    share = b.manifest["summary"].get("share_of_earnings_effect_through_completion")
    share_text = t("unit.percent", value=t.number(None if share is None else 100 * share))
    rows = [
        [t.get(f"report.step.{r['step']}", r["step"]), _num(r["change"], t, 0, sign=True),
         _num(r["expected_earnings"], t, 0)]
        for r in b.tables["income_build_up"].to_dict("records")
    ]  # fmt: skip
    premia = [
        [t.get(f"report.step.{r['term']}", r["term"]), _num(r["estimate"], t, 0, sign=True),
         _ci(r, t, 0)]
        for r in b.tables["education_premia"].to_dict("records")
    ]  # fmt: skip
    return _section(
        "income", t,
        f"<p>{escape(t('report.income_note', share=share_text))}</p>" + _figure(f["income"])
        + _table(_heads(t, "step", "change", "expected"), rows)
        + f"<h3>{escape(t('report.section.premia'))}</h3>"
        + _table(_heads(t, "step", "estimate", "ci"), premia),
    )  # fmt: skip


def _methods(b: Bundle, t: Texts, _f: dict[str, str]) -> str:
    m = b.manifest["spec"]["matching"]
    caliper = "–" if m.get("caliper") is None else t.number(m["caliper"], 2)
    text = t("report.methods_text", method=m["method"], ratio=m["ratio"], caliper=caliper)
    return _section("methods", t, f"<p>{escape(text)}</p>")


def _data(b: Bundle, t: Texts, _f: dict[str, str]) -> str:
    rows = [[r, v["fingerprint"][:16]] for r, v in b.manifest.get("inputs", {}).items()]
    head = _heads(t, "register", "fingerprint")
    return _section("data", t, f"<p>{escape(t('report.data_text'))}</p>" + _table(head, rows))


def _disclosure(b: Bundle, t: Texts, _f: dict[str, str]) -> str:
    rules = b.manifest["rules"]
    dominance = ""
    if rules.get("dominance"):
        n, k = rules["dominance"]
        dominance = t("report.dominance", n=n, k=t.number(k))
    lines = [line.split("\t") for line in b.log.strip().splitlines()[1:]]
    text = t("report.disclosure_text", rules=rules["name"], threshold=rules["threshold"],
             dominance=dominance, count=len(lines))  # fmt: skip
    if not lines:
        return _section(
            "disclosure", t, f"<p>{escape(text)} {escape(t('report.nothing_suppressed'))}</p>"
        )
    head = _heads(t, "table", "cell", "kind", "rule")
    rows = [[table, cell, t.get(f"report.kind.{kind}", kind), rule]
            for table, cell, kind, rule, *_ in lines]  # fmt: skip
    return _section("disclosure", t, f"<p>{escape(text)}</p>" + _table(head, rows))


_SECTION_WRITERS: dict[str, Callable[[Bundle, Texts, dict[str, str]], str]] = {
    "summary": _summary, "flow": _flow, "balance": _balance, "effects": _effects,
    "trajectories": _trajectories, "phases": _phases, "subgroups": _subgroups,
    "income": _income, "methods": _methods, "data": _data, "disclosure": _disclosure,
}  # fmt: skip


# ---- pieces -----------------------------------------------------------------------------


def _figures(b: Bundle, t: Texts, folder: Path) -> dict[str, str]:
    """Every figure drawn in the report's language, as data URIs of SVG."""
    tab = b.tables
    paths = {
        "love_plot": love_plot(tab["balance"], folder / "love.svg", t),
        "trajectories": trajectory_plot(tab["trajectories"], tab["phases"], folder / "traj.svg", t),
        "income": waterfall(tab["income_build_up"], folder / "income.svg", t),
    }
    for i, outcome in enumerate(tab["subgroups"]["outcome"].unique()):
        paths[f"subgroups_{outcome}"] = forest_plot(
            tab["subgroups"], outcome, folder / f"s{i}.svg", t
        )
    return {
        name: "data:image/svg+xml;base64," + base64.b64encode(p.read_bytes()).decode("ascii")
        for name, p in paths.items()
    }


def _section(key: str, t: Texts, body: str) -> str:
    return f'<section id="{key}"><h2>{escape(t(f"report.section.{key}"))}</h2>{body}</section>'


def _figure(uri: str) -> str:
    return f'<figure><img alt="" src="{uri}"></figure>'


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = [
        "<table><thead><tr>",
        *(f"<th>{escape(str(h))}</th>" for h in head),
        "</tr></thead><tbody>",
    ]
    for row in rows:
        cells = []
        for value in row:
            text = str(value)
            cls = ' class="withheld"' if text == "–" else ""
            cells.append(f"<td{cls}>{escape(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _heads(t: Texts, *columns: str) -> list[str]:
    return [t(f"report.column.{c}") for c in columns]


def _ci(row: dict[str, Any], t: Texts, decimals: int) -> str:
    if _missing(row["ci_low"]):
        return "–"
    return f"{_num(row['ci_low'], t, decimals)} … {_num(row['ci_high'], t, decimals)}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def _unit(outcome: str) -> str:
    """share, eur or months (the outcome's definition says)."""
    return OUTCOMES[outcome].unit if outcome in OUTCOMES else "months"


def _value(value: Any, unit: str, t: Texts, sign: bool = False) -> str:
    """A value with its unit; a sign goes before the unit (+€1,149, +1 149 €)."""
    if _missing(value):
        return "–"
    v = float(value)
    if unit == "eur":
        text = t("unit.eur", value=t.number(abs(v), 0))
    elif unit == "months":
        text = t("unit.months", value=t.number(abs(v), 1))
    else:
        text = t("unit.percent", value=t.number(100 * abs(v), 1))
    if v < 0:
        return "\u2212" + text
    return ("+" if sign and v > 0 else "") + text


def _in_unit(value: Any, unit: str, t: Texts, sign: bool = False) -> str:
    """A number in a table column of ``unit``: percent points for shares, whole euros."""
    scale, decimals = (100, 1) if unit == "share" else (1, 0 if unit == "eur" else 2)
    return _num(None if _missing(value) else scale * float(value), t, decimals, sign)


def _num(value: Any, t: Texts, decimals: int, sign: bool = False) -> str:
    return "–" if _missing(value) else t.number(float(value), decimals, sign)


def _count(value: Any, t: Texts) -> str:
    return "–" if _missing(value) else t.number(float(value))


def _percent(value: Any, t: Texts) -> str:
    return (
        "–" if _missing(value) else t("unit.percent", value=t.number(100 * float(value), 0, True))
    )
