"""Bundled network definitions (*.toml), trained weights (*.npz) and model cards (MODELS.md).

This folder installs as the package `accelsim.models` so that `accelsim.network("lenet5")`
works from any directory after a plain `pip install`.
"""
