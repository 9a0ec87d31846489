"""Imported by the sweep runner's fork server (experiments/runner/executors.py): loads the compiled
market kernels once, before workers are forked from it."""

from model.kernels import warm_up

warm_up()
