"""The command line, the README's examples and the generated reference."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from kotoeval.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_synth_prints_headline_facts(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["synth", "--scale", "tiny", "--out", str(tmp_path), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "OSKE" in result.output and "residents on 31.12.2020" in result.output
    assert (tmp_path / "truth.json").exists()


def test_user_errors_are_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kotoeval", "synth", "--scale", "huge", "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "unknown scale 'huge'; choose one of tiny, small, espoo, national" in result.stderr
    assert "Traceback" not in result.stderr
    result = subprocess.run(
        [sys.executable, "-m", "kotoeval", "synth", "--scale", "tiny", "--defects", "0.9",
         "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "--defects must be a rate" in result.stderr


def test_generated_docs_are_committed_and_current(tmp_path: Path) -> None:
    """Docs that cannot drift: the contract, the outcomes and this command line."""
    result = runner.invoke(app, ["docs", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for page in ("registers.md", "outcomes.md", "cli.md"):
        committed = (ROOT / "docs" / page).read_text(encoding="utf-8")
        assert (tmp_path / page).read_text(encoding="utf-8") == committed, (
            f"docs/{page} is stale: run kotoeval docs --out docs"
        )


def test_readme_examples_run(tmp_path: Path) -> None:
    """The tutorial is a test: every `kotoeval` line of the README runs."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.S)
    commands = [
        line.split("#")[0].strip() for block in blocks for line in block.splitlines()
        if line.startswith("kotoeval ")
    ]  # fmt: skip
    assert commands
    for command in commands:
        args = shlex.split(command)[1:]
        result = subprocess.run(
            [sys.executable, "-m", "kotoeval", *args], cwd=tmp_path, capture_output=True,
            text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 0, (command, result.stderr[-2000:])


def test_study_run_errors_are_one_clear_line(tmp_path: Path) -> None:
    spec = ROOT / "src" / "kotoeval" / "study" / "examples" / "oske.toml"
    result = subprocess.run(
        [sys.executable, "-m", "kotoeval", "study", "run", str(spec),
         "--warehouse", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())  # the console wraps long lines
    assert "does not exist; run `kotoeval ingest` first" in message
    assert "Traceback" not in message
    assert not (tmp_path / "none.duckdb").exists()
