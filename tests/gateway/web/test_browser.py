"""In a real browser (Playwright driving Debian's Chromium): sign in with a TOTP code, see the home page.

Skipped, saying what to install, where Chromium or the playwright package is missing. Screenshots go to
a temporary directory; with CUSTODIAN_SCREENSHOTS=1 they are written to docs/screenshots/ instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from gateway.recipients.roles import Role
from tests.gateway.web.staff import PASSWORD, staff_create, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    if CHROMIUM is None:
        pytest.skip("needs Chromium: apt-get install chromium")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="needs playwright: pip install -r requirements/lock.txt"
    )
    # Playwright runs an event loop in this thread; the ORM calls below happen before it starts or in
    # the live server's own thread, so Django's async guard may stand aside here.
    # Scoped to this test: left in os.environ it reached later subprocesses (`check --deploy` refuses it).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        yield page
        browser.close()


def _shots_dir(tmp_path: Path) -> Path:
    if os.environ.get("CUSTODIAN_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


def test_sign_in_with_totp_and_see_the_home_page(
    live_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    staff = staff_create("casey.clerk", Role.CLERK)
    staff.user.first_name, staff.user.last_name = "Casey", "Clerk"
    staff.user.save()
    shots = _shots_dir(tmp_path)
    page = browser_page
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))

    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/login/")
    page.keyboard.press("Tab")  # the first stop is the skip link, and it shows itself
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.get_by_label("User name").fill(staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.screenshot(path=str(shots / "sign-in.png"), full_page=True)
    page.get_by_label("Authenticator code").fill(totp_code(staff.secret))
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Casey Clerk"
    assert page.get_by_role("heading", name="Records clerk").is_visible()
    assert page.get_by_text("Request queue").first.is_visible()
    assert page.locator(".account__name").inner_text() == "Casey Clerk"
    # The stylesheet loaded from the gateway itself and applied (the CSP would block anything inline).
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
        == "rgb(29, 53, 87)"
    )
    page.screenshot(path=str(shots / "home.png"), full_page=True)
    assert not [v for v in violations if "Content Security Policy" in v]
