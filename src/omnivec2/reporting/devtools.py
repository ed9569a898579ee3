"""A headless Chromium driven over the Chrome DevTools Protocol on a pipe (`--remote-debugging-pipe`,
as Puppeteer's `pipe: true` does): no port, no websocket library, and every wait is a real-time
deadline that ends in an error rather than a hang.

Why not Chromium's one-shot flags (`--screenshot`, `--dump-dom`, `--virtual-time-budget`): the
virtual-time budget hung on kedro-viz's page on a CI machine (two minutes, no screenshot), and those
flags cannot wait for what a single-page app draws after it fetched its data. Here the caller waits
for the texts it expects, then takes the screenshot.

The protocol: the browser reads commands on its fd 3 and writes replies and events on its fd 4, each
message JSON ending in a NUL byte (https://chromedevtools.github.io/devtools-protocol/).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import signal
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from typing import Any


class BrowserError(RuntimeError):
    """Chromium could not do what was asked (it exited, answered with an error, or ran out of time)."""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise FileNotFoundError("chromium is not installed: `make setup` installs it (Debian package `chromium`, "
                                "the Makefile's APT_PACKAGES)")
    return found


class Browser:
    """One headless Chromium with one tab; use as a context manager (the process is killed on exit).

    `host_rules`: Chromium's `--host-resolver-rules`; the default makes every host but 127.0.0.1
    resolve to nothing, so pages that fetch from a CDN fail those fetches at once."""

    def __init__(self, profile: str, *, width: int = 1280, height: int = 900,
                 host_rules: str = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1") -> None:
        to_child, self._to_browser = os.pipe()
        self._from_browser, from_child = os.pipe()
        self._log = tempfile.TemporaryFile()  # its stderr: a pipe nobody reads could fill and stall it

        def plumb() -> None:  # in the child, before exec: our pipe ends become its fds 3 and 4
            # (through fds >= 10 first, in case a pipe end is itself 3 or 4); os.dup2 makes them
            # inheritable, and close_fds=False leaves them open: every other fd Python opens is
            # non-inheritable, so nothing else leaks into the browser
            read_end, write_end = fcntl.fcntl(to_child, fcntl.F_DUPFD, 10), fcntl.fcntl(from_child, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self._process = subprocess.Popen(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--remote-debugging-pipe", f"--user-data-dir={profile}", f"--host-resolver-rules={host_rules}",
             f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log,
            preexec_fn=plumb, close_fds=False, start_new_session=True)
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self._next_id = 0
        self._session = ""
        self.width, self.height = width, height

    def __enter__(self) -> Browser:
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"}, session=None, timeout=60)["targetId"]
            self._session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                      session=None)["sessionId"]
            self.call("Page.enable")
            self.call("Emulation.setDeviceMetricsOverride",
                      {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False})
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Ask the browser to quit (it then stops writing to its profile), then kill what is left of
        its process group (renderers, GPU and zygote processes) either way."""
        if self._process.poll() is None:
            try:
                os.write(self._to_browser, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
                self._process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._process.wait()
        self._log.close()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass

    def navigate(self, url: str, *, timeout: float = 60) -> None:
        """Open `url` and wait for its load event; an unreachable page raises BrowserError."""
        self._events.clear()
        answer = self.call("Page.navigate", {"url": url}, timeout=timeout)
        if answer.get("errorText"):
            raise BrowserError(f"chromium could not open {url}: {answer['errorText']}")
        self._wait_event("Page.loadEventFired", time.monotonic() + timeout, url)

    def text(self) -> str:
        """The text the page shows now (`document.body.innerText`)."""
        return self.evaluate("document.body ? document.body.innerText : ''") or ""

    def wait_for_texts(self, texts: Sequence[str], *, timeout: float) -> bool:
        """Poll until every one of `texts` is on the page, or `timeout` seconds pass -> whether they all were."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.text()
            if all(text in shown for text in texts):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.25)

    def dom(self) -> str:
        """The document as it is now, after its scripts ran."""
        return self.evaluate("document.documentElement.outerHTML")

    def screenshot(self) -> bytes:
        """A PNG of the viewport."""
        return base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in answer:
            raise BrowserError(f"{expression!r} failed in the page: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def call(self, method: str, params: dict[str, Any] | None = None, *, session: str | None | bool = True,
             timeout: float = 30) -> dict[str, Any]:
        """Send one command (to the tab unless `session` is None: then to the browser) -> its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session is True and self._session:
            message["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"chromium refused {method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def _wait_event(self, name: str, deadline: float, what: str) -> dict[str, Any]:
        while True:
            for event in self._events:
                if event["method"] == name:
                    return event
            self._events.append(self._read(deadline, f"{name} of {what}"))

    def _read(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"chromium did not answer in time (waiting for {waiting_for})")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                self._log.seek(0)
                stderr = self._log.read().decode(errors="replace")
                failures = [line for line in stderr.splitlines() if "dbus" not in line]
                raise BrowserError(f"chromium exited (waiting for {waiting_for}): " + "\n".join(failures)[-2000:])
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)
