"""The bundled GDSC training screens and drug-name resolution.

Drug names are resolved case-insensitively (``"lapatinib"`` -> ``"Lapatinib"``, surrounding
spaces ignored); a name found in no screen is an error listing the closest names. With two
screens, each drug is taken from the preferred screen when present there, else from the other,
and the screen is recorded.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import pandas as pd

from ferroscore import datasets

__all__ = ["resolve_drugs", "screen_order"]

SCREENS = datasets.GDSC_SCREENS


def _key(name: object) -> str:
    return str(name).strip().casefold()


def screen_order(training: str) -> tuple[str, ...]:
    """The preferred screen first, then the other one."""
    key = str(training).upper()
    if key not in SCREENS:
        raise ValueError(f"training must be one of {SCREENS} (bundled GDSC screens), got "
                         f"{training!r}")
    return (key, *[s for s in SCREENS if s != key])


def resolve_drugs(requested: Iterable[str], available: dict[str, pd.Index]) -> pd.DataFrame:
    """Map requested drug names to the screens' names.

    Parameters
    ----------
    requested
        Drug names as the user wrote them.
    available
        Screen -> its drug names, in order of preference.

    Returns
    -------
    DataFrame
        One row per requested name: ``requested``, ``drug`` (the screen's spelling),
        ``screen``.

    Raises
    ------
    ValueError
        A name in no screen (the message lists close matches), or a name given twice.

    Examples
    --------
    >>> fs.drugs.resolve_drugs(["lapatinib"], {"GDSC2": pd.Index(["Lapatinib"])})
        requested       drug screen
    0  lapatinib  Lapatinib  GDSC2
    """
    names = list(requested)
    if isinstance(requested, str):
        names = [requested]
    keys = [_key(n) for n in names]
    repeated = sorted({n for n, k in zip(names, keys, strict=True) if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"drugs are listed more than once (case-insensitively): {repeated}")
    lookup = {screen: {_key(d): d for d in drugs} for screen, drugs in available.items()}
    rows, unknown = [], []
    for name, key in zip(names, keys, strict=True):
        screen = next((s for s in lookup if key in lookup[s]), None)
        if screen is None:
            unknown.append(name)
        else:
            rows.append({"requested": name, "drug": lookup[screen][key], "screen": screen})
    if unknown:
        everything = sorted({d for drugs in available.values() for d in drugs})
        folded = {_key(d): d for d in everything}
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(_key(name), list(folded), n=5, cutoff=0.6)
            hints.append(f"{name!r} (close: {', '.join(folded[c] for c in close) or 'none'})")
        raise ValueError(f"{len(unknown)} drugs are in none of the screens "
                         f"{list(available)}: {'; '.join(hints)}")
    return pd.DataFrame(rows, columns=["requested", "drug", "screen"])
