"""Test-session settings: property tests draw the same examples on every run (CI on a fresh
clone has no Hypothesis database, so a random draw could otherwise fail one run in many)."""

from hypothesis import settings

settings.register_profile("chipwar", derandomize=True, print_blob=True)
settings.load_profile("chipwar")
