"""Screenshot pages of the built site with headless Chromium (a check for the eye, not a test).

    python -m sphinx -W -b html docs docs/_build/html
    python docs/screenshot.py [PAGE ...]          # default: one page per section

PNGs go to ``docs/_build/screenshots/``. Needs Chromium (Debian: ``apt-get install chromium``).
The site loads MathJax from its CDN; offline, a local MathJax (Debian ``libjs-mathjax``) is
swapped into a temporary copy of each page so the formulas render in the screenshot.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

HTML = Path(__file__).resolve().parent / "_build" / "html"
OUT = HTML.parent / "screenshots"
LOCAL_MATHJAX = Path("/usr/share/javascript/mathjax/MathJax.js")
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
    shown = source.with_name(source.stem + ".screenshot.html")
    text = source.read_text(encoding="utf-8")
    if LOCAL_MATHJAX.exists():
        # MathJax 2 (Debian) takes its configuration differently from the site's MathJax 4
        local = ('<script type="text/x-mathjax-config">MathJax.Hub.Config({tex2jax: '
                 '{processClass: "math", ignoreClass: "tex2jax_ignore|mathjax_ignore"}});'
                 f'</script><script src="{LOCAL_MATHJAX.as_uri()}'
                 '?config=TeX-AMS-MML_HTMLorMML"></script>')
        text = re.sub(r"<script>window.MathJax = .*?</script>", "", text)
        text = re.sub(r'<script[^>]*src="[^"]*mathjax[^"]*"[^>]*></script>', local, text)
    shown.write_text(text, encoding="utf-8")
    try:
        subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--allow-file-access-from-files",
                        "--virtual-time-budget=10000", f"--window-size=1280,{height}",
                        f"--screenshot={target}", shown.as_uri()],
                       check=True, capture_output=True, timeout=180)
    finally:
        shown.unlink()
    return target


if __name__ == "__main__":
    for page in sys.argv[1:] or SECTIONS:
        print(shoot(page))
