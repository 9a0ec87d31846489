"""Real-browser test of `chipwar dashboard`: headless Debian Chromium driven by Playwright.

Starts the dashboard as a subprocess on a free loopback port, opens it, moves a lever slider,
applies it with Reset, presses Step, and checks that the month advances, the lever is in force
in the model, the plots are re-sent and the price table appears, with no browser console errors
and no request leaving 127.0.0.1. Saves test-artifacts/dashboard.png.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
ARTIFACT = ROOT / "test-artifacts" / "dashboard.png"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 20_000  # every browser wait is bounded by this


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dashboard_url(tmp_path):
    """`chipwar dashboard` on a free port; yields its URL; terminates it afterwards."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (CI installs Debian's chromium; "
                    "run `apt-get install chromium`)")
    port = _free_port()
    env = {**os.environ,
           # any asset missing from the local solara-assets cache fails fast on loopback
           # instead of being fetched from a CDN: the page must work offline
           "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/",
           "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}
    out = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "experiments.cli", "dashboard", "--port", str(port),
                             "--host", "127.0.0.1"], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 40
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"dashboard exited with {proc.returncode}:\n{(tmp_path / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"dashboard did not answer on {url} within 40 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        out.close()
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log, log
    assert f"serving http://127.0.0.1:{port}/" in log


def _settled(page, locator, quiet_ms: int = 1000, tries: int = 10) -> str:
    """The locator's text once it has stayed the same for quiet_ms (renders lag the server)."""
    text = locator.inner_text()
    for _ in range(tries):
        page.wait_for_timeout(quiet_ms)
        now = locator.inner_text()
        if now == text:
            return text
        text = now
    pytest.fail(f"{locator} kept changing after pause: last {text!r}")


def test_dashboard_in_chromium(dashboard_url):
    from playwright.sync_api import expect, sync_playwright

    console_errors: list[str] = []
    outside: list[str] = []
    host = dashboard_url.rstrip("/")

    def route(r) -> None:
        url = r.request.url
        if url.startswith((host, "data:", "blob:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=WAIT_MS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1250})
            page.set_default_timeout(WAIT_MS)
            page.route("**/*", route)
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: console_errors.append(f"page error: {e}"))
            page.goto(dashboard_url, wait_until="load")
            step = page.get_by_role("button", name="Step")
            step.wait_for(state="visible")
            month = page.locator("#chipwar-month")
            expect(month).to_have_text("not started")
            lever_row = page.locator("#chipwar-levers tr", has_text="US control level")
            expect(lever_row).to_contain_text("0.76")

            # move the US control-level slider to its minimum with the keyboard
            slider = page.locator(".v-input", has_text="US control level").locator("[role=slider]")
            slider.focus()
            slider.press("Home")
            expect(slider).to_have_attribute("aria-valuenow", "0")

            # Reset builds a new model with the slider's value; the page shows it in force
            page.get_by_role("button", name="Reset").click()
            expect(lever_row).to_contain_text("0.00")
            plots = page.locator(".vue-grid-item img")
            expect(plots).to_have_count(3)
            before = [plots.nth(i).get_attribute("src") for i in range(3)]

            step.click()
            expect(month).to_have_text("2022-01")
            page.wait_for_function(
                "before => [...document.querySelectorAll('.vue-grid-item img')]"
                ".every((img, i) => img.src && img.src !== before[i] && img.complete && img.naturalWidth > 0)",
                arg=before, timeout=WAIT_MS)
            step.click()
            expect(month).to_have_text("2022-02")
            expect(page.locator("#chipwar-prices tr")).not_to_have_count(0)
            metric = page.locator(".chipwar-metric").first
            assert re.fullmatch(r"\d\.\d{3}", metric.inner_text().strip()), metric.inner_text()
            # Play runs month after month until paused
            page.get_by_role("button", name="▶").click()
            expect(month).not_to_have_text("2022-02")
            page.get_by_role("button", name="❚❚").click()
            expect(step).to_be_enabled()
            played = _settled(page, month)  # paused: the month stops advancing
            y0, m0 = (int(x) for x in played.split("-"))

            # one Step advances "Render Interval" months: jump far ahead for a telling screenshot
            interval = page.locator(".v-input", has_text="Render Interval").locator("[role=slider]")
            interval.focus()
            interval.press("End")
            n = int(interval.get_attribute("aria-valuenow"))
            assert n > 12
            step.click()
            y, m = divmod(y0 * 12 + m0 - 1 + n, 12)
            expect(month).to_have_text(f"{y:04d}-{m + 1:02d}")
            page.wait_for_timeout(800)  # let the last PNGs paint before the screenshot
            ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACT), full_page=True)
        finally:
            browser.close()
    assert ARTIFACT.stat().st_size > 10_000
    assert not outside, f"page tried to leave the machine: {outside}"
    assert not console_errors, f"browser console errors: {console_errors}"
