"""HTML → PDF and screenshots with headless Chromium (Debian's ``chromium`` package)."""

from __future__ import annotations

import shutil
import subprocess  # noqa: S404 - runs the local browser with fixed arguments
import tempfile
from pathlib import Path

from kotoeval.errors import KotoevalError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# No network, no first-run work: the report is self-contained.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--hide-scrollbars",
)  # fmt: skip


class BrowserError(KotoevalError, RuntimeError):
    """Headless Chromium is missing or failed."""


def browser() -> str:
    """Path of a Chromium-family browser, or a clear error saying how to get one."""
    for name in BROWSERS:
        if found := shutil.which(name):
            return found
    raise BrowserError(
        "no Chromium found for PDF output; install Debian's chromium (`make chromium`) "
        "or open the HTML report and print it"
    )


def _run(args: list[str], html: Path, timeout: float) -> str:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [browser(), *FLAGS, f"--user-data-dir={profile}", *args, html.resolve().as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
        except subprocess.TimeoutExpired:
            raise BrowserError(f"Chromium did not finish {html.name} in {timeout:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BrowserError(f"Chromium failed on {html.name}: {last}")
    return done.stdout


def to_pdf(html: Path, out: Path, timeout: float = 120) -> Path:
    """Print ``html`` to the PDF ``out`` (A4, backgrounds kept)."""
    _run([f"--print-to-pdf={out.resolve()}", "--no-pdf-header-footer"], html, timeout)
    if not out.is_file():
        raise BrowserError(f"Chromium wrote no PDF for {html.name}")
    return out


def screenshot(
    html: Path, out: Path, width: int = 1280, height: int = 2400, timeout: float = 120
) -> Path:
    """A PNG of the rendered page."""
    _run([f"--screenshot={out.resolve()}", f"--window-size={width},{height}"], html, timeout)
    if not out.is_file():
        raise BrowserError(f"Chromium wrote no screenshot of {html.name}")
    return out


def rendered_text(html: Path, timeout: float = 120) -> str:
    """The page's DOM after rendering (what a reader's browser builds)."""
    return _run(["--dump-dom"], html, timeout)
