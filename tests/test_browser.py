"""The rendered book, as a reader sees it: every page of the table of contents opened in headless
Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by selenium).

Opt-in (marker ``browser``, deselected by default): ``make browser`` builds the book if
``_build/html`` is missing, then runs this file. For each page it checks that

* no cell shows an error, a traceback or an error on stderr;
* every image has loaded (``naturalWidth > 0``), chapters have figures, and every figure
  a cell draws has a caption, is numbered within its chapter and is shown at no less than
  90% of the width it was drawn at;
* math is typeset by MathJax (served with the book, not from a CDN), without TeX errors;
* a chapter that shows a widget embeds the widget state, every widget view refers to it,
  the widgets are drawn by JavaScript served with the book, and each moves: a slider
  stepped or a toggle clicked changes the picture, with no kernel behind the page;
* every Colab launch link points at an ``.ipynb`` of this repository (``_config.yml``'s URL and branch)
  that exists;
* the page loads no missing local file (no failed request to the book's own server) and
  logs no error to the console;
* no code cell or printed output is wider than its column (nothing scrolls sideways);
* no ``{glue:...}`` or ``{cite:...}`` role is left unresolved, and each chapter cites the
  bibliography;
* each chapter ends with 3 to 5 exercises, each with a folded solution;
* no visible code line records a result (``record(``) or asserts (``assert``);

and saves a full-page screenshot to ``_build/screenshots/<page>.png``. At a phone's
width (390 px) no table, code, picture or widget widens the page or is clipped (each
fits or scrolls in its own box), and a chapter takes at most 20 desktop screens.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
# Functions of robustcore.widgets that return a live widget (the others return data or figures).
WIDGET_FACTORIES = re.compile(r"\b(\w*_frames|\w*_explorer|frame_viewer)\(")
COLAB = re.compile(
    r"^https://colab\.research\.google\.com/github/(?P<repo>[^/]+/[^/]+)/blob/(?P<branch>[^/]+)/"
    r"(?P<path>.+)$"
)


def _pages() -> list[str]:
    files = [TOC["root"]]
    for part in TOC.get("parts", []):
        files += [ch["file"] for ch in part["chapters"]]
    return files


PAGES = _pages()


@pytest.fixture(scope="module")
def site(request):
    """``_build/html`` (built now if missing) served on a free localhost port; yields the base URL."""
    expr = request.config.getoption("markexpr") or ""
    if not re.search(
        r"(?<!not )\bbrowser\b", expr
    ):  # e.g. `pytest tests -m "not slow"` runs no browser
        pytest.skip("opt-in: run with -m browser (make browser)")
    if not (HTML / "index.html").is_file():
        jb = Path(sys.executable).with_name("jupyter-book")
        subprocess.run(
            [str(jb), "build", str(ROOT), "-W", "--keep-going"],
            check=True,
            cwd=ROOT,
            env={**os.environ, "TQDM_DISABLE": "1"},
        )
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(
        self, *args
    ) -> None:  # keep the test log for the test's own messages
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium under chromedriver, with a fresh profile and nothing reaching the network."""
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not Path(exe).is_file():
            pytest.fail(
                f"{exe} not found: install Debian's chromium and chromium-driver "
                "(apt-get install chromium chromium-driver), or set CHROMIUM / CHROMEDRIVER"
            )
    os.environ.setdefault("SE_AVOID_STATS", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _wait_for(driver, script: str, timeout: float = 30.0):
    """Poll a JavaScript expression until it is truthy; return its value (or the last falsy one)."""
    end = time.monotonic() + timeout
    while True:
        value = driver.execute_script(f"return {script};")
        if value or time.monotonic() > end:
            return value
        time.sleep(0.2)


def _cells(page: str, kind: str) -> str:
    """The text of a page's source cells of one kind ("markdown" or "code"); a .md page is markdown."""
    nb = ROOT / f"{page}.ipynb"
    if nb.is_file():
        cells = json.loads(nb.read_text())["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == kind)
    md = ROOT / f"{page}.md"
    return md.read_text() if kind == "markdown" and md.is_file() else ""


@pytest.fixture(scope="module")
def screenshots():
    """An emptied ``_build/screenshots``: what it holds afterwards is this run's."""
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


def _widgets_move(browser) -> list[str]:
    """Move every slider of the page's widgets one step (its handle, by keyboard) and
    click every toggle that is not selected: the picture the widget shows must change
    each time, with no kernel behind the page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    shown = """
        const w = arguments[0];
        return Array.from(w.querySelectorAll('img'))
            .filter(i => i.offsetParent !== null).map(i => i.src.slice(-200)).join('|');"""
    roots = browser.execute_script(
        "return Array.from(document.querySelectorAll('.cell_output .jupyter-widgets"
        ".widget-vbox')).filter(e => !e.parentElement.closest('.widget-vbox'))"
    )
    problems = []
    for n, root in enumerate(roots):
        before = browser.execute_script(shown, root)
        if not before:
            problems.append(f"widget {n}: shows no picture")
            continue
        for handle in root.find_elements(By.CSS_SELECTOR, ".noUi-handle"):
            handle.send_keys(Keys.ARROW_RIGHT)
            time.sleep(0.5)
            after = browser.execute_script(shown, root)
            if after == before:
                problems.append(
                    f"widget {n}: moving a slider left its picture as it was"
                )
            before = after
        for button in root.find_elements(
            By.CSS_SELECTOR, ".widget-toggle-buttons button:not(.mod-active)"
        )[:1]:
            button.click()
            time.sleep(0.5)
            after = browser.execute_script(shown, root)
            if after == before:
                problems.append(f"widget {n}: a toggle left its picture as it was")
    return problems


@pytest.mark.parametrize("page", PAGES)
def test_rendered_page(page, site, browser, screenshots):
    html_file = HTML / f"{page}.html"
    assert html_file.is_file(), (
        f"{html_file} was not built; is {page} in _toc.yml and the book built?"
    )
    browser.get_log("browser")  # drop the previous page's messages
    browser.get(f"{site}/{page}.html")
    assert _wait_for(browser, "document.readyState === 'complete'"), (
        f"{page} did not finish loading"
    )
    problems: list[str] = []
    is_notebook = (ROOT / f"{page}.ipynb").is_file()
    is_chapter = re.fullmatch(r"book/\d\d_\w+", page) is not None

    # 1. No error output. MyST-NB marks tracebacks .output.traceback and stderr .output.stderr.
    errors = browser.execute_script("""
        return Array.from(document.querySelectorAll('.output.traceback, .output.error, .output.stderr'))
            .map(e => [e.className, e.innerText.slice(0, 300)]);""")
    for cls, text in errors:
        if "stderr" not in cls or re.search(r"Traceback|Error|Exception", text):
            problems.append(f"error output ({cls}): {text!r}")
    body = browser.execute_script(
        "return document.querySelector('main, article, body').innerText"
    )
    if "Traceback (most recent call last)" in body:
        problems.append("a traceback is printed on the page")

    # 2. Every image loads (lazy ones are made eager first), and chapters have figures.
    browser.execute_script(
        "document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager');"
    )
    _wait_for(browser, "Array.from(document.images).every(i => i.complete)", timeout=30)
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]);"
    )
    problems += [
        f"image not loaded: {src} (complete={done}, naturalWidth={w})"
        for src, done, w in images
        if not done or not w
    ]
    if is_chapter and not images:
        problems.append("a chapter page without a single figure")
    # ... and every figure a cell draws has a caption (myst-nb's cell-level figure option)
    bare_figures = browser.execute_script("""
        return Array.from(document.querySelectorAll('.cell_output img')).filter(i => {
            const f = i.closest('figure');
            const c = f && f.querySelector('figcaption');
            return !(c && c.textContent.trim());
        }).map(i => (i.getAttribute('src') || '').slice(-60));""")
    problems += [f"figure without a caption: {src}" for src in bare_figures]
    # ... described by its caption, not its file name, and numbered within its chapter
    # ("Fig. 2.3": book/_ext/figures.py)
    figures = browser.execute_script("""
        return Array.from(document.querySelectorAll('figure')).map(f => [
            (f.querySelector('.caption-number') || {textContent: ''}).textContent.trim(),
            Array.from(f.querySelectorAll('img')).map(i => i.getAttribute('alt') || '')]);""")
    chapter = re.match(r"book/(\d\d)_", page)
    for number, alts in figures:
        problems += [
            f"image described by a path: {a!r}"
            for a in alts
            if not a or re.search(r"(^\.\./|_images/|\.(png|jpe?g|svg|gif)$)", a)
        ]
        if chapter and number and not number.startswith(f"Fig. {int(chapter[1])}."):
            problems.append(f"figure numbered {number!r}, not within its chapter")
    # ... and shown at the size it is drawn (at 1280 px, the text column is 684 px): a
    # figure drawn wider is shrunk, its labels with it (plotting.COLUMN_IN)
    shrunk = browser.execute_script("""
        return Array.from(document.querySelectorAll('.cell_output img'))
            .filter(i => i.offsetParent !== null && !i.closest('.jupyter-widgets')
                         && i.naturalWidth > 0)
            .map(i => [i.clientWidth / i.naturalWidth, i.naturalWidth,
                       ((i.closest('figure') || {}).innerText || '').trim().slice(0, 50)]);""")
    problems += [
        f"figure shown at {r:.0%} of its drawn width ({w} px): {cap!r}"
        for r, w, cap in shrunk
        if r < 0.9
    ]

    # 3. Math: every math element typeset by the local MathJax, with no TeX error.
    n_math = browser.execute_script("return document.querySelectorAll('.math').length")
    mathjax_src = browser.execute_script(
        "const s = document.querySelector('script[src*=\"mathjax\" i]'); return s ? s.src : null;"
    )
    source_has_math = bool(re.search(r"\$[^$\n]+\$", _cells(page, "markdown")))
    if source_has_math and not n_math:
        problems.append("the source has math ($...$) but the page has no math element")
    if n_math:
        if not mathjax_src or not mathjax_src.startswith(site):
            problems.append(f"MathJax is not served with the book: {mathjax_src!r}")
        done = browser.execute_async_script("""
            const cb = arguments[arguments.length - 1];
            const t0 = Date.now();
            (function wait() {
                if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                    MathJax.startup.promise.then(() => cb(true), e => cb('MathJax failed: ' + e));
                } else if (Date.now() - t0 > 30000) { cb('MathJax never started'); }
                else { setTimeout(wait, 100); }
            })();""")
        if done is not True:
            problems.append(str(done))
        typeset = browser.execute_script(
            "return document.querySelectorAll('.math mjx-container').length"
        )
        if typeset < n_math:
            problems.append(
                f"math not rendered: {typeset} of {n_math} math elements typeset by MathJax"
            )
        tex_errors = browser.execute_script(
            "return Array.from(document.querySelectorAll('mjx-merror')).map(e => e.getAttribute('data-mjx-error'))"
        )
        problems += [f"TeX error: {e}" for e in tex_errors]

    # 4. Widgets: a chapter that shows one embeds its state; every view refers to a saved model.
    state = browser.execute_script("""
        return Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-state+json"]'))
            .map(s => s.textContent);""")
    views = browser.execute_script("""
        return Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'))
            .map(s => s.textContent);""")
    models: set[str] = set()
    for text in state:
        models |= set(json.loads(text).get("state", {}))
    if WIDGET_FACTORIES.search(_cells(page, "code")) and not views:
        problems.append("the chapter shows a widget but the page has no widget view")
    if views and not models:
        problems.append(
            "widget views without embedded widget state (application/vnd.jupyter.widget-state+json)"
        )
    for text in views:
        model_id = json.loads(text).get("model_id")
        if model_id not in models:
            problems.append(f"widget view {model_id} has no saved state")
    if views:  # served by the book and drawn (this browser reaches no CDN)
        scripts = browser.execute_script(
            "return Array.from(document.scripts).map(s => s.src)"
            ".filter(s => /require|embed-amd|html-manager/i.test(s))"
        )
        problems += [
            f"widget JavaScript from outside the book: {src}"
            for src in scripts
            if not src.startswith(site)
        ]
        if not scripts:
            problems.append("a page with widgets loads no widget JavaScript")
        drawn = _wait_for(
            browser, "document.querySelectorAll('.jupyter-widgets').length"
        )
        if not drawn:
            problems.append("widgets not drawn: no .jupyter-widgets element")
        problems += _widgets_move(browser)
        # ... and their pictures are described in words (robustcore.frames' alt texts)
        alts = browser.execute_script("""
            return Array.from(document.querySelectorAll('.jupyter-widgets img'))
                .map(i => i.getAttribute('alt') || '');""")
        problems += [
            f"widget picture described by a path or not at all: {a!r}"
            for a in alts
            if not a or re.search(r"(^\.\./|_images/|\.(png|jpe?g|svg|gif)$)", a)
        ]

    # 5. Colab launch links point at notebooks of this repository that exist.
    repo = re.sub(r"^https://github\.com/|\.git$|/$", "", CONFIG["repository"]["url"])
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('a[href*=\"colab.research.google.com\"]')).map(a => a.href)"
    )
    if is_notebook and not links:
        problems.append("no Colab launch link on a notebook page")
    for href in links:
        m = COLAB.match(href)
        if not m:
            problems.append(f"Colab link of an unexpected form: {href}")
            continue
        if m["repo"] != repo or m["branch"] != CONFIG["repository"]["branch"]:
            problems.append(f"Colab link to another repository or branch: {href}")
        if not m["path"].endswith(".ipynb") or not (ROOT / m["path"]).is_file():
            problems.append(
                f"Colab link to a notebook that is not in the repository: {m['path']}"
            )

    # 6. No console error: a 404 or failed load of anything served by the book itself, a
    # script error. (Failed loads from CDNs, which readers offline do not reach, are not
    # the book's content and are left out.)
    for entry in browser.get_log("browser"):
        msg = entry["message"]
        if entry["level"] != "SEVERE" or "/favicon.ico" in msg:
            continue
        if "pydata-sphinx-theme.js" in msg and "theme mode" in msg:
            continue  # the theme's note on a first visit (no stored light/dark choice)
        if "Failed to load resource" in msg:
            if msg.startswith(site):
                problems.append(f"missing file: {msg[:300]}")
        else:
            problems.append(f"console error: {msg[:300]}")

    # 7. Code and printed output fit the text column: nothing scrolls sideways. (Folded
    # cells, whose text is not rendered, are left out.)
    wide = browser.execute_script("""
        return Array.from(document.querySelectorAll('.cell_input pre, .cell_output pre'))
            .filter(e => e.innerText.trim() && e.scrollWidth > e.clientWidth + 1)
            .map(e => [e.scrollWidth, e.clientWidth,
                       e.innerText.split('\\n').reduce((a, b) => b.length > a.length ? b : a)
                           .slice(0, 100)]);""")
    problems += [
        f"wider than its column ({sw} > {cw} px): {line!r}" for sw, cw, line in wide
    ]

    # 8. Numbers in the prose and citations are resolved; chapters cite the bibliography.
    if re.search(r"\{(glue|cite)(:\w+)?\}", body):
        problems.append("an unresolved {glue:...} or {cite:...} role is visible")
    if is_chapter and not browser.execute_script(
        "return document.querySelectorAll('a[href*=\"bibliography\"]').length"
    ):
        problems.append("a chapter without a citation linked to the bibliography")

    # 9. Chapters end with 3 to 5 exercises, each with a folded solution.
    if is_chapter:
        n_ex = len(re.findall(r"^Exercise \d+\.", body, re.M))
        folded = browser.execute_script(
            "return Array.from(document.querySelectorAll('details > summary'))"
            ".filter(s => s.textContent.trim() === 'Solution'"
            " && !s.parentElement.open).length"
        )
        if not 3 <= n_ex <= 5:
            problems.append(f"{n_ex} exercises (3 to 5 wanted)")
        if folded < n_ex:
            problems.append(f"{n_ex} exercises but {folded} folded solutions")

    # 10. No plumbing in sight: no visible code line records a result or asserts.
    code = browser.execute_script("""
        return Array.from(document.querySelectorAll('.cell_input'))
            .filter(e => e.offsetParent !== null).map(e => e.innerText).join('\\n');""")
    plumbing = [
        ln.strip()
        for ln in code.splitlines()
        if re.search(r"\brecord\(", ln) or re.match(r"\s*assert\b", ln)
    ]
    problems += [f"plumbing on the page: {ln[:80]!r}" for ln in plumbing]

    # A full-page screenshot, kept as an artifact of the build.
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    png = screenshots / f"{page.replace('/', '_')}.png"
    png.write_bytes(base64.b64decode(shot["data"]))
    assert png.stat().st_size > 1000, f"empty screenshot {png}"

    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


def test_chromium_is_debians(site):
    """The browser is the system's (browsers cannot be downloaded here), and it runs headless."""
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).is_file(), CHROMIUM
    out = subprocess.run(
        [CHROMIUM, "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "Chromium" in out.stdout, out


PHONE = (390, 844)  # CSS pixels of a common phone
SCREENS = 20  # desktop screens a chapter may take: one sitting
# Chapters allowed to be longer than that (none now; Chapter 2 took 31 screens before
# its cuts, 19.3 after)
LONGER: dict[str, float] = {}


@pytest.mark.parametrize("page", PAGES)
def test_page_fits_a_phone_and_a_sitting(page, site, browser):
    """At 390 px nothing widens the page: code, tables and figures fit or scroll inside
    their own box; at the desktop size a chapter takes at most 20 screens."""
    browser.get(f"{site}/{page}.html")
    _wait_for(browser, "document.readyState === 'complete'")
    screens = browser.execute_script(
        "return document.documentElement.scrollHeight / window.innerHeight"
    )
    size = browser.get_window_size()
    browser.set_window_size(*PHONE)
    try:
        time.sleep(1.0)
        wide = browser.execute_script("""
            const w = document.documentElement.clientWidth;
            const scrolls = e => {  // inside a box, on screen, that scrolls its content
                for (let a = e; a && a !== document.body; a = a.parentElement) {
                    const s = getComputedStyle(a).overflowX;
                    if ((s === 'auto' || s === 'scroll')
                        && a.getBoundingClientRect().right <= w + 1) return true;
                }
                return false;
            };
            return Array.from(document.querySelectorAll(
                    'main table, main pre, main img, main .jupyter-widgets'))
                .filter(e => e.offsetParent !== null)
                .filter(e => e.getBoundingClientRect().right > w + 1 && !scrolls(e))
                .map(e => e.tagName + ' ' + (e.innerText || e.src || '').slice(0, 60));""")
        page_wider = browser.execute_script(
            "return document.documentElement.scrollWidth - "
            "document.documentElement.clientWidth"
        )
    finally:
        browser.set_window_size(size["width"], size["height"])
    problems = [f"wider than a phone's column: {w!r}" for w in wide]
    if page_wider > 1:
        problems.append(f"the page scrolls sideways on a phone by {page_wider} px")
    limit = LONGER.get(page, SCREENS)
    if re.fullmatch(r"book/\d\d_\w+", page) and screens > limit + 0.5 * (
        page not in LONGER
    ):
        problems.append(f"{screens:.1f} desktop screens (at most {limit})")
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)
