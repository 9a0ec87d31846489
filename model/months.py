"""Month arithmetic, in one place: a month is an integer index (months since year 0, so
differences are month counts), written YYYY-MM in tables and inputs."""

from __future__ import annotations

import calendar
import re

from model.errors import ScenarioError

_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def month_index(text: str, origin: str = "date") -> int:
    """'YYYY-MM' or 'YYYY-MM-DD' -> absolute month index; ScenarioError if malformed or not a
    real calendar day (2022-02-30 is refused)."""
    m = _DATE.match(str(text).strip()) if isinstance(text, str) else None
    ok = bool(m) and 1 <= int(m.group(2)) <= 12 and 1990 <= int(m.group(1)) <= 2100
    if ok and m.group(3) is not None:
        ok = 1 <= int(m.group(3)) <= calendar.monthrange(int(m.group(1)), int(m.group(2)))[1]
    if not ok:
        raise ScenarioError(f"{origin}: {text!r}: expected a real date YYYY-MM (or YYYY-MM-DD) "
                            "between 1990 and 2100")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def year_of(index: int | float) -> float:
    """Decimal calendar year of a month index (2022-01 -> 2022.0)."""
    return index / 12.0


def year_month(index: int) -> tuple[int, int]:
    """(year, month 1-12) of a month index."""
    return index // 12, index % 12 + 1
