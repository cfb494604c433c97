import types

from misuse import cases, misuse_test
from robustcore import glue


def test_glue_names_and_values(monkeypatch):
    glued = {}
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda k, v, display: glued.update({k: v}))
    assert glue.name("ilyas/D_R/l2") == "ilyas_D_R_l2"
    glue.numbers(worst=0.35, n=100)
    glue.published("madry/pgd40", "ilyas/D_R/l2")
    assert glued == {"worst": 0.35, "n": 100.0, "madry_pgd40": 93.2, "ilyas_D_R_l2": 48}


def test_glue_is_a_no_op_without_myst_nb(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import raises ImportError
    glue.numbers(x=1.0)
    glue.published("madry/pgd40")


def test_a_notebook_reader_sees_the_glued_numbers(monkeypatch):
    """In a kernel (Jupyter, Colab) the roles show as written, so the numbers are
    printed; in a script or a test nothing is."""
    import IPython
    import IPython.display

    shown = []

    def display(obj, **kwargs):  # what the Markdown line says (myst-nb's glue aside)
        if isinstance(obj, IPython.display.Markdown):
            shown.append(obj.data)

    monkeypatch.setattr(IPython.display, "display", display)
    for shell in (None, types.SimpleNamespace()):  # a script; a terminal IPython
        monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
        glue.numbers(worst=0.35)
    assert shown == []  # no kernel, no reader of the notebook
    kernel = types.SimpleNamespace(kernel=object())
    monkeypatch.setattr(IPython, "get_ipython", lambda: kernel)
    glue.numbers(worst=0.35, n=100)
    glue.published("madry/pgd40")
    assert shown == [
        "*Numbers the text below quotes:* `worst` = 0.35, `n` = 100",
        "*Numbers the text below quotes:* `madry_pgd40` = 93.2",
    ]


MISUSE = cases(
    "glue",
    {
        "numbers:str": (lambda: glue.numbers(x="1"), TypeError, "x must be a real"),
        "numbers:nan": (lambda: glue.numbers(x=float("nan")), ValueError, "x must be"),
        "published:key": (lambda: glue.published("nope"), ValueError, "key must name"),
        "name:key": (lambda: glue.name(3), TypeError, "key must be a non-empty str"),
    },
)
test_bad_input_is_refused_clearly_and_writes_nothing = misuse_test(MISUSE)
