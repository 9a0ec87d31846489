"""Errors for people: a refused input names the file, the key, the value and what was expected."""

from __future__ import annotations


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
