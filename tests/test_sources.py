"""Shipped sources resolve: every section of docs/SOURCES.md cited anywhere (by its anchor)
exists, every ODD section cited by name is a heading of docs/ODD.md, and nothing cites the
design notes that are not in the repository."""

from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "docs" / "SOURCES.md"
CITE = re.compile(r"SOURCES\.md#([A-Za-z0-9_-]+)")
ODD_CITE = re.compile(r'docs/ODD\.md "([^"]+)"')
# The team's design notes and fact sheet are not shipped, so nothing may cite them (the names
# are spelled in pieces so that this file does not cite them either).
_NOTES = ("FAC" + "TS", "DES" + "IGN")
FOREIGN = re.compile(rf"\b{_NOTES[0]}\b|{_NOTES[1]} ?§|{_NOTES[1]}\.md")
TEXT = (".py", ".md", ".toml", ".csv", ".txt", ".cfg", ".ipynb")


def _tracked() -> list[Path]:
    """Tracked text files (this one included: it spells the names it looks for in pieces)."""
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
        names = out.stdout.split()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: every file on disk
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()
                 and ".venv" not in p.parts and "outputs" not in p.parts]
    return [ROOT / n for n in names if n.endswith(TEXT) and (ROOT / n).is_file()]


def anchors() -> set[str]:
    return set(re.findall(r'<a id="([^"]+)"></a>', SOURCES.read_text(encoding="utf-8")))


def _csv_sources(path: Path) -> list[tuple[int, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [(i + 2, r["source"] or "") for i, r in enumerate(rows) if "source" in r]


def test_sources_page_has_the_sections_the_data_needs():
    have = anchors()
    assert {"chips", "systems", "measured-performance", "power-and-cost-conventions",
            "china-supply", "market-history", "policy-timeline", "ecosystems", "energy",
            "adoption-theory", "epoch-ai"} <= have
    text = SOURCES.read_text(encoding="utf-8")
    for a in have:  # each anchor sits right above a heading
        assert re.search(rf'<a id="{a}"></a>\n## \S', text), a


def test_every_cited_section_exists():
    have = anchors()
    cited: dict[str, list[str]] = {}
    for path in _tracked():
        for a in CITE.findall(path.read_text(encoding="utf-8", errors="replace")):
            cited.setdefault(a, []).append(str(path.relative_to(ROOT)))
    missing = {a: files for a, files in cited.items() if a not in have}
    assert not missing, f"cited sections missing from docs/SOURCES.md: {missing}"
    assert len(cited) >= 8  # the data cite the page (a rename that broke every cite fails here)


def test_every_data_source_cell_is_filled_and_resolves():
    have = anchors()
    n_cites = 0
    for path in sorted((ROOT / "model" / "data").glob("*.csv")):
        for line, src in _csv_sources(path):
            assert src.strip(), f"{path.name} line {line}: empty source"
            assert not FOREIGN.search(src), f"{path.name} line {line}: source cites {src!r}"
            for a in CITE.findall(src):
                assert a in have, f"{path.name} line {line}: docs/SOURCES.md#{a} does not exist"
                n_cites += 1
    assert n_cites >= 90


def test_odd_sections_cited_by_name_exist():
    odd = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    headings = [h.strip() for h in re.findall(r"^#+ (.+)$", odd, re.M)]
    for path in _tracked():
        for name in ODD_CITE.findall(path.read_text(encoding="utf-8", errors="replace")):
            assert any(h.startswith(name) for h in headings), \
                f"{path.relative_to(ROOT)} cites docs/ODD.md {name!r}, which is no heading"


def test_no_shipped_file_cites_the_design_notes():
    """Every tracked text file, every cell of the data tables included (sources and notes)."""
    bad = []
    for path in _tracked():
        rel = str(path.relative_to(ROOT))
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in FOREIGN.finditer(text):
            bad.append(f"{rel}: ...{text[max(0, m.start() - 30):m.end() + 10]!r}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", ["baseline"])
def test_scenario_header_cites_the_timeline(name):
    text = (ROOT / "model" / "scenarios" / f"{name}.toml").read_text(encoding="utf-8")
    assert "docs/SOURCES.md#policy-timeline" in text
