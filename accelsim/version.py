"""accelsim's version (pyproject.toml's `version`), written into every report, sweep folder
and trained model so that a file says which accelsim made it."""

VERSION = "0.1.0"
