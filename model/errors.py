"""Errors for people: a refused input names the file, the key, the value and what was expected."""

from __future__ import annotations

from collections.abc import Iterable


class InputError(ValueError):
    """Bad user input (file, key, value). The CLI prints it and exits 2, writing nothing."""


class CatalogError(InputError):
    """A hardware catalog file is invalid."""


class ScenarioError(InputError):
    """A scenario file or parameter override is invalid."""


class DesignError(InputError):
    """A sweep design file is invalid."""


def where(file: object, row: int | None = None, column: str | None = None) -> str:
    """Format a location like ``chips.csv row 4, column 'tdp_w'``."""
    parts = [str(file)]
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column {column!r}")
    return ", ".join(parts)


def nearest(name: object, valid: Iterable[str], n: int = 3) -> list[str]:
    """The valid names closest to a mistyped ``name`` (difflib ratio >= 0.6), best first.

    A name that is a prefix or a part of a valid one (``control`` -> ``us_control_level``) also
    counts, so a half-remembered parameter still finds its candidates."""
    import difflib

    text = str(name)
    pool = sorted(valid)
    close = difflib.get_close_matches(text, pool, n=n, cutoff=0.6)
    if len(close) < n and len(text) >= 3:
        close += [v for v in pool if text.lower() in v.lower() and v not in close][: n - len(close)]
    if len(close) < n and len(text) >= 3:  # a close word of a multi-word name: "levyy" -> licence_levy
        close += [v for v in pool if v not in close and "_" in v
                  and difflib.get_close_matches(text, v.split("_"), n=1, cutoff=0.75)][: n - len(close)]
    return close


def did_you_mean(name: object, valid: Iterable[str], n: int = 3) -> str:
    """`` (did you mean a, b?)`` for an unknown name, or ``""`` when nothing is close."""
    close = nearest(name, valid, n)
    return f" (did you mean {', '.join(close)}?)" if close else ""
