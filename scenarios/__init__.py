"""Bundled scenario files (*.toml): `accelsim run NAME` and `accelsim.run_scenario(NAME)`.

This folder installs as the package `accelsim.scenarios` (as `models/` installs as
`accelsim.models`) so that bundled scenarios are found by name from any directory, with an
editable or a plain `pip install`. The schema is described in `accelsim/scenario.py`.
"""
