"""Published numbers, each with what was measured and where it was published.

Every number a chapter sets beside its own comes from :data:`REFERENCES` (the entries of
:mod:`robustcore.published`), never typed in
the chapter. An entry gives the value, its unit, the dataset, what exactly was measured
(model, protocol, budget) and its source: a paper with table or figure, or a repository,
file and commit. Where a paper and its repository differ, both are entries.

Like for like: a result is a *reproduction* of an entry only when it is measured on the
entry's dataset, with its protocol, *and* on the entry's model (its architecture and
training recipe, or its released checkpoint); otherwise it is an *analogue*, the entry
is context, never a gap (:func:`comparison`), and :func:`difference` names what
differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from .published import ENTRIES

KINDS = ("reproduction", "analogue")


@dataclass(frozen=True)
class Reference:
    """One published number. ``value``: in ``unit`` (``"%"`` or ``"AUROC"``);
    ``measured``: the protocol (attack, budget, test set); ``model``: the model it was
    measured on (architecture and training recipe, or a released checkpoint);
    ``approx``: read off a figure or rounded in the source; ``cite``: the key of the
    paper in ``book/references.bib`` ("" for a source that is not a paper)."""

    value: float
    unit: str
    dataset: str
    measured: str
    source: str
    cite: str
    model: str
    approx: bool = False


# The entries of robustcore.published, checked into their dataclass once, at import
REFERENCES: dict[str, Reference] = {k: Reference(**v) for k, v in ENTRIES.items()}


def get(key: str) -> Reference:
    """The entry ``key`` of :data:`REFERENCES`."""
    if not isinstance(key, str) or key not in REFERENCES:
        raise ValueError(
            f"key must name an entry of references.REFERENCES such as "
            f"'madry/pgd40'; got {key!r}"
        )
    return REFERENCES[key]


def _check_like(dataset: str, same_protocol: bool, same_model: bool) -> None:
    if not isinstance(dataset, str) or not dataset:
        raise TypeError(
            f"dataset must be a non-empty string such as 'MNIST', got {dataset!r}"
        )
    for arg, v in (("same_protocol", same_protocol), ("same_model", same_model)):
        if not isinstance(v, bool):
            raise TypeError(f"{arg} must be True or False, got {v!r}")


def comparison(
    key: str, dataset: str, same_protocol: bool = True, same_model: bool = False
) -> str:
    """``"reproduction"`` when a result stands beside the entry ``key`` like for
    like: measured on ``dataset`` = the entry's, with its protocol
    (``same_protocol``) and on its model (``same_model``: its architecture and
    training recipe, or its released checkpoint), so that a gap means something;
    else ``"analogue"``: the entry is context, with no gap."""
    _check_like(dataset, same_protocol, same_model)
    same = get(key).dataset == dataset and same_protocol and same_model
    return "reproduction" if same else "analogue"


def difference(
    key: str,
    dataset: str,
    same_protocol: bool = True,
    same_model: bool = False,
    model: str = "",
    protocol: str = "",
) -> str:
    """What a result measured on ``dataset`` (with the entry's protocol or not, on its
    model or not) shares with the entry ``key`` and what not, as one phrase for the
    page, e.g. ``"same data and protocol; other model: ours a small CNN trained with
    PGD-10, theirs Madry et al.'s CNN ..."``. ``model`` / ``protocol``: ours, said
    where they differ."""
    _check_like(dataset, same_protocol, same_model)
    for arg, v in (("model", model), ("protocol", protocol)):
        if not isinstance(v, str):
            raise TypeError(f"{arg} must be a string, got {type(v).__name__}")
    ref = get(key)
    same, other = [], []
    if ref.dataset == dataset:
        same.append("data")
    else:
        other.append(f"other data: ours {dataset}, theirs {ref.dataset}")
    if same_protocol:
        same.append("protocol")
    else:
        other.append("other protocol" + (f": ours {protocol}" if protocol else ""))
    if same_model:
        same.append("model")
    else:
        ours = f"ours {model}, " if model else ""
        other.append(f"other model: {ours}theirs {ref.model}")
    head = (
        "same " + (", ".join(same[:-1]) + " and " if len(same) > 1 else "") + same[-1]
        if same
        else ""
    )
    return "; ".join(([head] if head else []) + other)
