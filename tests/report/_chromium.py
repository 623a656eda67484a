"""Headless Chromium driven over the DevTools protocol: load a page, read it, screenshot it.

Used by the report tests and, as a script, to take the README's screenshot::

    python -m tests.report._chromium reports/example/report.html docs/report.png \
        --width 1280 --height 900

Chromium (Debian's ``/usr/bin/chromium``) is started in its own process group with a fresh
profile, ``--remote-debugging-port=0`` (it picks a free loopback port and writes it to
``DevToolsActivePort`` in the profile), and every network feature that could phone home
turned off; the group is killed on exit. The protocol client is a few lines over the
``websockets`` package's synchronous client.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

__all__ = ["CHROMIUM", "Chromium", "PageLoad", "open_chromium", "screenshot"]

CHROMIUM = os.environ.get("LGBENCH_CHROMIUM", "/usr/bin/chromium")
_FLAGS = (
    "--headless",
    "--no-sandbox",  # tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
_LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:", "chrome:", "devtools:")


class ChromiumError(RuntimeError):
    """Chromium did not start, or the page did not answer in time."""


@dataclass
class PageLoad:
    """What loading a page showed: its problems, and the state of its plots."""

    url: str
    plots_state: str
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    remote_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [
            *(f"console: {m}" for m in self.console_errors),
            *(f"exception: {m}" for m in self.exceptions),
            *(f"log: {m}" for m in self.log_errors),
            *(f"network: {m}" for m in self.remote_requests),
            *(f"failed request: {m}" for m in self.failed_requests),
        ]


class Chromium:
    """One page of a running headless Chromium, spoken to over the DevTools protocol."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(
        self, method: str, params: dict[str, Any] | None = None, *, timeout_s: float = 60
    ) -> dict[str, Any]:
        """Call ``method``; returns its result, keeps the events that arrive meanwhile."""
        self._next_id += 1
        call_id = self._next_id
        self._socket.send(json.dumps({"id": call_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChromiumError(f"no answer to {method} in {timeout_s} s")
            try:
                message = json.loads(self._socket.recv(timeout=remaining))
            except TimeoutError:
                raise ChromiumError(f"no answer to {method} in {timeout_s} s") from None
            if message.get("id") == call_id:
                if "error" in message:
                    raise ChromiumError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression (promises awaited)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise ChromiumError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_until(
        self, check: Callable[[], bool], *, timeout_s: float = 60, poll_s: float = 0.1
    ) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if check():
                return True
            time.sleep(poll_s)
        return False

    def set_viewport(self, width: int, height: int) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def load(self, path: Path, *, timeout_s: float = 90) -> PageLoad:
        """Open ``path`` from file:// and wait until its plots are drawn (or failed)."""
        url = path.resolve().as_uri()
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        drawn = self.wait_until(
            lambda: (
                self.evaluate(
                    "document.readyState === 'complete' && document.body !== null"
                    " && ['ready', 'failed'].includes(document.body.dataset.plots || '')"
                )
                is True
            ),
            timeout_s=timeout_s,
        )
        state = self.evaluate("document.body ? (document.body.dataset.plots || '') : ''")
        self.send("Runtime.evaluate", {"expression": "0"})  # collect late events
        load = PageLoad(url=url, plots_state=str(state) if drawn else f"timeout ({state})")
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                load.console_errors.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                load.exceptions.append(
                    str(details.get("exception", {}).get("description") or details.get("text"))
                )
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                load.log_errors.append(str(params["entry"].get("text")))
            elif method == "Network.requestWillBeSent":
                request_url = str(params.get("request", {}).get("url", ""))
                if not request_url.startswith(_LOCAL_SCHEMES):
                    load.remote_requests.append(request_url)
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                load.failed_requests.append(str(params.get("errorText")))
        return load

    def plots(self) -> list[dict[str, Any]]:
        """Per ``div.plot``: its id, plotly's SVG layers, traces in the data and drawn."""
        value = self.evaluate(
            """Array.from(document.querySelectorAll('div.plot')).map(function (div) {
                 var paths = Array.from(div.querySelectorAll(
                   '.scatterlayer .trace path.js-line, .barlayer .trace path, '
                   + '.scatterlayer .trace path.point'));
                 return {
                   id: div.id,
                   main_svg: div.querySelectorAll('svg.main-svg').length,
                   data_traces: Array.isArray(div.data) ? div.data.length : -1,
                   drawn_traces: div.querySelectorAll('.scatterlayer .trace, .barlayer .trace')
                     .length,
                   drawn_paths: paths.filter(function (p) {
                     return (p.getAttribute('d') || '').length > 4; }).length,
                   width: div.getBoundingClientRect().width,
                   height: div.getBoundingClientRect().height
                 };
               })"""
        )
        plots: list[dict[str, Any]] = value
        return plots

    def screenshot(self, png_path: Path, *, full_page: bool = False) -> Path:
        """Save a PNG of the viewport (or the whole page)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            metrics = self.send("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            params["captureBeyondViewport"] = True
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": size["height"],
                "scale": 1,
            }
        result = self.send("Page.captureScreenshot", params)
        png_path.write_bytes(base64.b64decode(result["data"]))
        return png_path


def _page_socket_url(port: int, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                targets = json.load(r)
            for target in targets:
                if target.get("type") == "page" and target.get("webSocketDebuggerUrl"):
                    return str(target["webSocketDebuggerUrl"])
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise ChromiumError("Chromium shows no page to drive")
        time.sleep(0.1)


@contextlib.contextmanager
def open_chromium(
    profile_dir: Path | None = None,
    *,
    width: int = 1280,
    height: int = 900,
    timeout_s: float = 30,
) -> Iterator[Chromium]:
    """Start headless Chromium with a fresh profile; yield its page; kill it on exit.

    ``profile_dir`` is created if needed (a temporary one is used and removed when None).
    """
    own_profile = profile_dir is None
    profile = Path(tempfile.mkdtemp(prefix="lgbench-chromium-")) if own_profile else profile_dir
    assert profile is not None
    profile.mkdir(parents=True, exist_ok=True)
    log = (profile / "chromium.log").open("wb")
    process = subprocess.Popen(
        [
            CHROMIUM,
            *_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None:
                raise ChromiumError(f"Chromium exited with {process.returncode}; see {log.name}")
            if time.monotonic() > deadline:
                raise ChromiumError(f"Chromium wrote no DevToolsActivePort in {timeout_s} s")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        url = _page_socket_url(port, timeout_s)
        with connect(url, max_size=None, open_timeout=timeout_s) as socket:
            page = Chromium(socket)
            for domain in ("Page", "Runtime", "Log", "Network"):
                page.send(f"{domain}.enable")
            page.set_viewport(width, height)
            yield page
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()
        if own_profile:
            shutil.rmtree(profile, ignore_errors=True)


def screenshot(
    html_path: Path,
    png_path: Path,
    width: int = 1280,
    height: int = 900,
    *,
    full_page: bool = False,
) -> PageLoad:
    """Load ``html_path`` in headless Chromium and save a PNG screenshot of it.

    Returns what the load showed (console errors, remote requests…) so callers can refuse a
    screenshot of a broken page.
    """
    with open_chromium(width=width, height=height) as page:
        load = page.load(Path(html_path))
        page.screenshot(Path(png_path), full_page=full_page)
    return load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshot a page with headless Chromium")
    parser.add_argument("html", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--full-page", action="store_true")
    args = parser.parse_args(argv)
    load = screenshot(args.html, args.png, args.width, args.height, full_page=args.full_page)
    for problem in load.problems:
        print(problem)
    print(f"{args.png}: plots {load.plots_state}")
    return 0 if load.plots_state == "ready" and not load.problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
