"""The widgets' JavaScript is fetched pinned and checked, and served by the book."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


widgets_js = _module(ROOT / "tools" / "widgets_js.py", "widgets_js")


def test_only_the_embedder_its_fonts_and_requirejs_are_kept():
    keep = "package/dist/"
    assert widgets_js.wanted("package/dist/embed-amd.js", keep)
    assert widgets_js.wanted("package/dist/1551f4f60c37af51121f.woff2", keep)
    assert not widgets_js.wanted("package/dist/embed.js", keep)
    assert not widgets_js.wanted("package/dist/embed.js.map", keep)
    assert not widgets_js.wanted("package/dist/sub/x.woff", keep)
    assert not widgets_js.wanted("package/src/embed-amd.js", keep)
    assert widgets_js.wanted("package/require.js", "package/require.js")
    assert not widgets_js.wanted("package/bin/r.js", "package/require.js")


def test_every_package_is_pinned_with_a_sha256():
    for spec, (sha, _) in widgets_js.PACKAGES.items():
        assert "@" in spec.lstrip("@"), f"{spec} has no version"
        assert len(sha) == 64 and int(sha, 16) >= 0


def test_without_npm_the_book_keeps_the_cdn(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(widgets_js.shutil, "which", lambda _: None)
    assert widgets_js.fetch(tmp_path / "w") == 0
    assert not (tmp_path / "w").exists()
    assert "CDN" in capsys.readouterr().out


def test_the_book_config_loads_the_local_widgets_extension():
    config = (ROOT / "_config.yml").read_text()
    assert "local_widgets: book/_ext" in config
    assert (ROOT / "book" / "_ext" / "local_widgets.py").is_file()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths")
def test_the_extension_points_myst_nb_at_the_copies(tmp_path):
    local = _module(ROOT / "book" / "_ext" / "local_widgets.py", "local_widgets")
    src = tmp_path / ".cache" / "widgets"
    src.mkdir(parents=True)
    for s in local.SCRIPTS:
        (src / s).write_text("//")

    class App:
        confdir = str(tmp_path)
        outdir = str(tmp_path / "html")

        class builder:
            format = "html"

        class config:
            nb_ipywidgets_js = {"https://cdn.example/require.js": {}}

    local._configure(App)
    assert list(App.config.nb_ipywidgets_js) == [
        "widgets/require.js",
        "widgets/embed-amd.js",
    ]
    assert (tmp_path / "html" / "_static" / "widgets" / "embed-amd.js").is_file()


def test_the_extension_runs_before_myst_nb_reads_its_configuration():
    local = _module(ROOT / "book" / "_ext" / "local_widgets.py", "local_widgets")
    calls = []

    class App:
        def connect(self, event, fn, priority=500):
            calls.append((event, priority))

    local.setup(App())
    # myst-nb's handler on builder-inited has priority 500
    assert calls == [("builder-inited", 400), ("build-finished", 500)]
