import pytest

from misuse import cases, misuse_test
from robustcore import tables


def test_markdown_table_by_hand():
    md = tables.markdown(
        ["model", "accuracy"], [("CNN", "99.1%"), ("MLP", 0.5)], "**T.**"
    )
    assert md == (
        "**T.**\n\n| model | accuracy |\n|---|---|\n| CNN | 99.1% |\n| MLP | 0.5 |"
    )
    assert tables.markdown(["a"], []) == "| a |\n|---|"


MISUSE = cases(
    "tables",
    {
        "csv:kinds-str": (
            lambda: tables.csv([], "analogue"),
            ValueError,
            "kinds must be a tuple",
        ),
        "csv:kinds-unknown": (
            lambda: tables.csv([], ("gap",)),
            ValueError,
            "kinds must be a tuple",
        ),
        "markdown:header-str": (
            lambda: tables.markdown("ab", []),
            TypeError,
            "header must be a sequence",
        ),
        "markdown:header-empty": (
            lambda: tables.markdown([], []),
            ValueError,
            "header must name",
        ),
        "markdown:row-length": (
            lambda: tables.markdown(["a", "b"], [(1,)]),
            ValueError,
            r"rows\[0\] must have 2 cells",
        ),
        "records:kind": (
            lambda: tables.records([], "gap"),
            ValueError,
            "kind must be one of",
        ),
        "beside:live": (
            lambda: tables.beside("rows", [], None),
            TypeError,
            "live must be a list of results.table rows",
        ),
        "beside:full": (
            lambda: tables.beside([], [{"x": 1}], None),
            TypeError,
            "full must be a list",
        ),
        "beside:run": (
            lambda: tables.beside([], [], {"when": "today"}),
            TypeError,
            "run must be None or a run",
        ),
        "markdown:caption": (
            lambda: tables.markdown(["a"], [], caption=3),
            TypeError,
            "caption must be a str",
        ),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)
