"""Headless Chromium on small pages: a page that rendered passes, an error page and a blank page do not
(the pages of a real run: tests/pipelines/test_pages.py)."""

from __future__ import annotations

import pytest

from omnivec2.reporting.browse import open_page, rendered_problems, serve_folder
from omnivec2.reporting.devtools import BrowserError

PAGE = """<!doctype html><html><head><title>omnivec2 page</title></head>
<body style="font: 20px sans-serif"><h1>omnivec2 evaluation report</h1><p id="late"></p>
<script>document.getElementById("late").textContent = "drawn by a script";</script>
<table border="1"><tr><td>image</td><td>0.91</td></tr><tr><td>audio</td><td>0.77</td></tr></table></body></html>"""


def test_a_page_that_rendered_passes_and_an_error_or_blank_page_does_not(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(PAGE)
    (site / "blank.html").write_text("<html><body></body></html>")
    with serve_folder(site) as base:
        good = open_page(base, tmp_path / "good.png", width=800, height=600)
        missing = open_page(base + "missing.html", tmp_path / "missing.png", width=800, height=600)
    blank = open_page((site / "blank.html").as_uri(), tmp_path / "blank.png", width=800, height=600)

    assert rendered_problems(good, ["omnivec2 evaluation report", "drawn by a script"]) == []
    assert good.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert rendered_problems(good, ["not there"]) == [f"{base}: 'not there' is not on the page"]
    assert any("the page shows" in problem for problem in rendered_problems(missing, []))  # the server's 404 page
    problems = rendered_problems(blank, [])
    assert len(problems) == 1 and "looks blank (1 colours" in problems[0]


LATE_PAGE = """<!doctype html><html><body style="font: 20px sans-serif"><h1>a single-page app</h1><div id="app"></div>
<script>fetch("data.json").then(r => r.json()).then(d => setTimeout(() => {
  document.getElementById("app").textContent = d.drawn; }, 4000));</script></body></html>"""


def test_a_page_that_draws_after_fetching_its_data_is_waited_for_until_its_texts_appear(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(LATE_PAGE)
    (site / "data.json").write_text('{"drawn": "nodes drawn from data.json"}')
    with serve_folder(site) as base:
        waited = open_page(base, tmp_path / "waited.png", width=800, height=600, wait_ms=20000,
                           wait_for=["nodes drawn from data.json"])
        hasty = open_page(base, tmp_path / "hasty.png", width=800, height=600)

    assert rendered_problems(waited, ["a single-page app", "nodes drawn from data.json"]) == []
    assert waited.seconds < 15  # it stopped waiting once the text was there, not after wait_ms
    assert rendered_problems(hasty, ["nodes drawn from data.json"]) == [
        f"{base}: 'nodes drawn from data.json' is not on the page"]


def test_a_page_that_cannot_be_reached_raises_naming_it(tmp_path):
    with serve_folder(tmp_path) as base:
        pass  # the server is gone: nothing answers on its port any more
    with pytest.raises(BrowserError, match=f"could not open {base}.*ERR_CONNECTION_REFUSED"):
        open_page(base, tmp_path / "gone.png", timeout=60)
