"""Experiment scripts, run from the repository root as modules: ``python -m experiments.run_all``, ``python -m experiments.memory.run``."""
