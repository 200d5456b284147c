"""A headless Chromium (through Selenium) for checking rendered reports and taking screenshots.

Used by the browser tests and tools/screenshots.py. Chromium runs offline: no first-run, sync,
component updates or background networking, and a fresh profile directory per session.
Selenium is a test dependency (the `test` extra), so it is imported here, not at package level.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars")


def find_chromium() -> tuple[str, str] | None:
    """(chromium binary, chromedriver) if both are installed, else None."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    return (binary, driver) if binary and driver else None


@contextlib.contextmanager
def chromium(width: int = 1000, height: int = 1200) -> Iterator[object]:
    """A Selenium WebDriver for headless Chromium, closed and its profile removed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_chromium()
    if found is None:
        raise RuntimeError("chromium and chromedriver not found; install the Debian packages "
                           "`chromium chromium-driver`")
    binary, driver_path = found
    profile = tempfile.mkdtemp(prefix="grader-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def full_page_screenshot(driver, page: Path, out: Path, width: int = 1000, max_height: int = 6000,
                         expand: bool = False) -> Path:
    """Open `page` and save a PNG of the whole page (up to `max_height` pixels tall); `expand`
    opens every collapsed <details> block first."""
    driver.set_window_size(width, 800)  # the page height is measured at this viewport
    driver.get(page.resolve().as_uri())
    if expand:
        driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(int(height) + 40, max_height))
    out.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(out))
    return out
