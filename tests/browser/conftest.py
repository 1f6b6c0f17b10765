"""Headless Chromium through Playwright against pytest-django's live server.

Chromium comes from Debian (/usr/bin/chromium, or its lighter chromium-headless-shell where that
is installed), not from Playwright's own download. Without it, or without the built static assets
(`make assets`), the browser tests skip with a reason, unless REQUIRE_BROWSER=1 (CI), where they
fail.
"""

import importlib
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.factories import ComplimentaryGrantFactory, UserFactory

# Debian's old headless shell (apt-get install chromium-headless-shell) where it is installed: the
# same engine without the full browser around it, about half the CPU of /usr/bin/chromium for
# the same tests. Otherwise the full browser, in its headless mode.
HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"
CHROMIUM = os.environ.get(
    "CHROMIUM_PATH", HEADLESS_SHELL if Path(HEADLESS_SHELL).exists() else "/usr/bin/chromium"
)
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
# Screenshots are for people to look at, not assertions: taken only with SCREENSHOTS=1
# (`make screenshots`). Each full-page PNG costs Chromium a second or so of CPU.
SCREENSHOTS = os.environ.get("SCREENSHOTS") == "1"
SCREENSHOT_DIR = REPO_ROOT / "test-output" / "screenshots"
VENDOR_CHART = REPO_ROOT / "static" / "vendor" / "lightweight-charts.standalone.production.js"
PASSWORD = "Browser-Trader-2026"


def _unavailable(reason: str):
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            # The live server needs committed data. The rows the migrations seed (the plans,
            # the site) are there when each test starts: tests/conftest.py writes them again
            # after every transactional test's flush. Serialized rollback would also reload
            # every content type and permission for each test, and make each worker serialize
            # its whole database when it starts.
            item.add_marker(pytest.mark.django_db(transaction=True))


class _Chromium:
    """One Chromium for a run of browser tests in a row: launched by the first, closed after the
    last (see pytest_runtest_teardown), rather than once for each module (about a second of CPU
    each time)."""

    def __init__(self):
        self._playwright = None
        self._browser = None
        self._opened = False
        self._previous = None

    def open(self):
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        self.close()  # one that crashed
        from playwright.sync_api import sync_playwright

        # Playwright's sync API keeps an event loop running in this thread while it is open, so
        # Django's async guard would refuse the plain ORM calls of the tests and their database
        # teardown. Only while the browser is open: `check --deploy` rightly rejects the
        # variable, and the tests after the browser's run are spared it.
        self._opened = True
        self._previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        try:
            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    # The live server only: no page reaches out of the machine.
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
                ],
            )
        except BaseException:
            self.close()
            raise
        return self._browser

    def close(self):
        if not self._opened:
            return
        try:
            if self._browser is not None:
                self._browser.close()
            if self._playwright is not None:
                self._playwright.stop()
        finally:
            self._browser = self._playwright = None
            self._opened = False
            if self._previous is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = self._previous


_CHROMIUM = _Chromium()


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """Close Chromium once the test's own fixtures are gone, unless the next test is a browser
    test too. Inside tests/conftest.py's teardown (trylast), which writes the seed rows back: with
    Playwright's event loop still running, Django would give that write a connection of its own,
    left open, and the test database could not be dropped at the session's end."""
    try:
        return (yield)
    finally:
        if nextitem is None or nextitem.get_closest_marker("browser") is None:
            _CHROMIUM.close()


@pytest.fixture
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    if not VENDOR_CHART.exists():
        _unavailable("static/vendor is not built: run `make assets`")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed: pip install -r requirements-dev.txt")
    return _CHROMIUM.open()


@pytest.fixture
def site(live_server, settings):
    """The live server, with cookies that plain http://localhost accepts."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return live_server.url


def _page(browser, width: int, height: int, *, locale: str = "ja-JP", **options):
    """A page of a new browser context; Japanese, as the site's users browse, unless asked."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale=locale,
        timezone_id="Asia/Tokyo",
        **options,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    return context, page


@pytest.fixture
def page(browser):
    context, page = _page(browser, 1280, 900)
    yield page
    context.close()
    assert page.js_errors == [], f"JavaScript errors: {page.js_errors}"


@pytest.fixture
def wide(browser):
    """A laptop's window, 1366 x 900."""
    context, page = _page(browser, 1366, 900)
    yield page
    context.close()
    assert page.js_errors == [], f"JavaScript errors: {page.js_errors}"


@pytest.fixture
def english_page(browser):
    context, page = _page(browser, 1280, 900, locale="en-US")
    yield page
    context.close()
    assert page.js_errors == [], f"JavaScript errors: {page.js_errors}"


@pytest.fixture
def phone(browser):
    context, page = _page(browser, 390, 844, has_touch=True, is_mobile=True, device_scale_factor=2)
    yield page
    context.close()
    assert page.js_errors == [], f"JavaScript errors: {page.js_errors}"


@pytest.fixture
def screenshot():
    """take(page, name): a full-page PNG under test-output/screenshots/, with SCREENSHOTS=1 only."""

    def take(page, name: str) -> Path | None:
        if not SCREENSHOTS:
            return None
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def browser_market(transactional_db, settings, tmp_path, search_market_template):
    """A few real TSE issues since 2012 and a search snapshot built from them (once per session,
    see search_market_template), committed for the live server."""
    settings.SIMILARITY_SNAPSHOT_DIR = tmp_path / "snapshot"
    return search_market_template.restore(settings.SIMILARITY_SNAPSHOT_DIR)


@pytest.fixture
def trader(transactional_db):
    from allauth.account.models import EmailAddress

    user = UserFactory(email="trader@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def pro_trader(trader):
    from billing.models import Plan

    # The seeded plans may have been flushed by a transactional test that ran earlier.
    seeded = importlib.import_module("billing.migrations.0002_seed_plans").PLANS
    pro = next(plan for plan in seeded if plan["slug"] == "pro")
    plan, _created = Plan.objects.get_or_create(slug="pro", defaults=pro)
    ComplimentaryGrantFactory(user=trader, plan=plan)
    return trader


def sign_in(page, site: str, email: str, password: str = PASSWORD) -> None:
    """Through the sign-in form, as a person does: for the tests of signing in."""
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{site}/account/")


def signed_in(page, site: str, user) -> None:
    """The page's browser context signed in as ``user`` by a session cookie, without the form:
    for the tests whose subject comes after signing in (sign_in goes through the form)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": site,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
