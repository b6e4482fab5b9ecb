"""Screenshot pages of the built site with headless Chromium (a check for the eye, not a test).

    python -m sphinx -W -b html docs docs/_build/html
    python docs/screenshot.py [PAGE ...]          # default: one page per section

PNGs go to ``docs/_build/screenshots/``. Needs Chromium (Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HTML = Path(__file__).resolve().parent / "_build" / "html"
OUT = HTML.parent / "screenshots"
SECTIONS = [
    "index.html",
    "first_analysis.html",
    "generated/tutorials/01_quickstart.html",
    "methods/index.html",
    "methods/singscore.html",
    "methods/survival.html",
    "generated/api/index.html",
    "generated/api/fs.survival.html",
    "generated/api/stubs/ferroscore.score.html",
    "generated/catalogue.html",
    "bad_input.html",
]


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    sys.exit("screenshot: Chromium not found (apt-get install chromium)")


def shoot(page: str, height: int = 1400) -> Path:
    source = HTML / page
    if not source.exists():
        sys.exit(f"screenshot: {source} does not exist; build the docs first")
    target = OUT / (page.replace("/", "__").removesuffix(".html") + ".png")
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size=1280,{height}", f"--screenshot={target}",
                    source.as_uri()], check=True, capture_output=True, timeout=120)
    return target


if __name__ == "__main__":
    for page in sys.argv[1:] or SECTIONS:
        print(shoot(page))
