"""Experiments, sweeps, plots, the dashboard and the `chipwar` command line."""
