"""HTML to PDF through Debian's headless chromium, offline and with a throw-away profile."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-pdf-header-footer")
TIMEOUT_S = 180


class PdfError(RuntimeError):
    """No PDF could be made; the message says why and what to install."""


def find_chromium() -> str | None:
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def html_to_pdf(html: Path, out: Path) -> Path:
    """Print `html` to `out` with chromium; raises PdfError when chromium is missing or fails."""
    browser = find_chromium()
    if browser is None:
        raise PdfError("PDF output needs chromium, which is not installed: `apt-get install chromium` "
                       "(the HTML report was written and opens in any browser).")
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="storewatch-chromium-") as profile:
        try:
            done = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={out}",
                                   html.resolve().as_uri()], capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise PdfError(f"chromium did not finish printing within {TIMEOUT_S} s") from None
    if not out.exists() or out.read_bytes()[:5] != b"%PDF-":
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise PdfError(f"chromium (exit {done.returncode}) wrote no PDF: " + " | ".join(detail))
    return out
