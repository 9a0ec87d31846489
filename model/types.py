"""Shared vocabulary: stacks, blocs, units. Imported by every layer; imports nothing of the project."""

from __future__ import annotations

# Software ecosystems ("stacks"). A chip belongs to exactly one.
STACKS: tuple[str, ...] = ("cuda", "cann", "rocm", "other_cn")
STACK_INDEX: dict[str, int] = {s: i for i, s in enumerate(STACKS)}

# Blocs: US and Tier-1 allies, China, Global South.
BLOCS: tuple[str, ...] = ("us", "cn", "gs")

# Home bloc of each stack's owners.
STACK_HOME: dict[str, str] = {"cuda": "us", "rocm": "us", "cann": "cn", "other_cn": "cn"}

# One H100-equivalent = dense BF16 peak of an H100 SXM (docs/ODD.md "Entities, state variables and scales").
H100_BF16_TFLOPS: float = 989.0


HOURS_PER_MONTH: float = 730.0
HOURS_PER_YEAR: float = 8760.0
