"""Opening the pages a run makes (the report, the Data Docs, the `kedro viz build` site) in headless
Chromium, as a person would: a screenshot of each, and a check that it rendered rather than an
error page.

Chromium is Debian's `chromium` package (the Makefile's APT_PACKAGES), driven over the DevTools
protocol (`devtools.Browser`): the page loads, then the screenshot and the DOM come from the same tab.
Every host but 127.0.0.1 resolves to nothing, so pages that fetch from a CDN (the Data Docs' styles,
kedro-viz's fonts) fail those fetches at once instead of waiting for a network that is not there.
A site that loads its data with fetch() (kedro-viz) is served over HTTP on 127.0.0.1 (`serve_folder`).

    python -m omnivec2.reporting.browse OUT_DIR NAME=FILE_OR_FOLDER[=TEXT,TEXT] ...
"""

from __future__ import annotations

import contextlib
import functools
import html
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

from omnivec2.reporting.devtools import Browser

ERROR_MARKERS = ("ERR_", "This site can’t be reached", "404 Not Found", "File not found", "Error response")


@dataclass(frozen=True)
class Page:
    url: str
    screenshot: Path  # PNG
    dom: str  # the document after its scripts ran
    seconds: float


def open_page(url: str, screenshot: Path, *, width: int = 1280, height: int = 900, wait_ms: int = 0,
              wait_for: Sequence[str] = (), timeout: float = 120) -> Page:
    """`url` in headless Chromium -> its screenshot (written to `screenshot`) and its DOM, once
    loaded and, for a single-page app that draws after fetching its data, once every text in
    `wait_for` is on the page or `wait_ms` have passed (what is missing then is for
    `rendered_problems` to say). `timeout`: seconds for the whole visit, after which BrowserError."""
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="omnivec2-chromium-") as profile, \
            Browser(profile, width=width, height=height) as browser:
        browser.navigate(url, timeout=timeout)
        if wait_ms and wait_for:
            browser.wait_for_texts(wait_for, timeout=wait_ms / 1000)
        elif wait_ms:
            time.sleep(wait_ms / 1000)
        screenshot.write_bytes(browser.screenshot())
        dom = browser.dom()
    return Page(url, screenshot, dom, time.perf_counter() - started)


def rendered_problems(page: Page, expected: Sequence[str]) -> list[str]:
    """What says `page` did not render as it should: an error page, a text in `expected` that it
    lacks, or a blank screenshot (one colour, or almost: a page of content has many). [] when fine."""
    text = page_text(page.dom)
    problems = [f"{page.url}: the page shows {marker!r}" for marker in ERROR_MARKERS if marker in text]
    problems += [f"{page.url}: {wanted!r} is not on the page" for wanted in expected if wanted not in text]
    pixels = np.asarray(Image.open(page.screenshot).convert("RGB"))
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    if colours < 16 or float(pixels.std()) < 5.0:
        problems.append(f"{page.url}: the screenshot {page.screenshot} looks blank ({colours} colours, "
                        f"std {pixels.std():.1f})")
    return problems


def page_text(dom: str) -> str:
    """The text a DOM shows, roughly: scripts, styles and tags dropped, entities decoded, runs of
    white space made one space (`<b>Suite:</b> <a>wine</a>` -> `Suite: wine`)."""
    dom = re.sub(r"<(script|style|noscript)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """A static HTTP server for `folder` on 127.0.0.1 (a free port) while the block runs -> its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Screenshots of pages given as NAME=FILE_OR_FOLDER[=TEXT,TEXT] into OUT_DIR/NAME.png (TEXTs:
    what the page must show); a folder is served over HTTP (its index.html, given up to 8 s
    to draw). Exit 1 when a page did not render."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    out, problems = Path(argv[0]), []
    for spec in argv[1:]:
        name, target, *texts = spec.split("=")
        expected = [t for t in ",".join(texts).split(",") if t]
        path = Path(target)
        if not path.exists():
            problems.append(f"{name}: {path} does not exist")
            print(problems[-1])
            continue
        with serve_folder(path) if path.is_dir() else contextlib.nullcontext(None) as base:
            page = open_page(base or path.resolve().as_uri(), out / f"{name}.png", wait_ms=8000 if base else 0,
                             wait_for=expected)
        found = rendered_problems(page, expected)
        problems += found
        print(f"{name}: {page.screenshot} ({page.seconds:.1f} s){' ' + '; '.join(found) if found else ''}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
