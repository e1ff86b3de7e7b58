"""Checking a scenario document's values (`accelsim.scenario` holds the schema): every
mistake is a `ScenarioError` shaped `{file}: {key path} = {value} {problem}; {fix}`, unknown
keys and names with a did-you-mean."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from difflib import get_close_matches
from pathlib import Path
from typing import Any, TypeVar

from accelsim.checks import check_count
from accelsim.errors import AccelsimError, ScenarioError

MAX_COUNT = 2**31 - 1  # batch and seq_len, as on the command line
MAX_VALUES = 10**6  # values one list may hold (a sweep axis's; lists of runs hold fewer)
T = TypeVar("T")


def where(path: Path | None) -> str:
    """The file a message names ('<scenario>' for a document without one)."""
    return "<scenario>" if path is None else str(path)


def show(value: object) -> str:
    """A value as a message quotes it: its repr, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


class Doc:
    """The document being parsed and its schema (section -> the keys it takes; "" is the
    top level), for checks and messages."""

    def __init__(self, path: Path | None, schema: Mapping[str, tuple[str, ...]]) -> None:
        self.path = path
        self.where = where(path)
        self.schema = schema

    def bad(self, key: str, value: object, problem: str, fix: str) -> ScenarioError:
        """`{file}: {key} = {value} {problem}; {fix}`."""
        return ScenarioError(f"{self.where}: {key} = {show(value)} {problem}; {fix}")

    def missing(self, key: str, fix: str) -> ScenarioError:
        """`{file}: {key} is missing; {fix}`."""
        return ScenarioError(f"{self.where}: {key} is missing; {fix}")

    def wrap(self, key: str, err: AccelsimError) -> ScenarioError:
        """Another error (a spec's, a network file's) under this file and key."""
        return ScenarioError(f"{self.where}: {key}: {err}")

    def unknown(self, key: str, value: str, choices: Iterable[str], what: str,
                also: str = "") -> ScenarioError:
        """`value` is not one of `choices`: a did-you-mean and the choices."""
        options = list(choices)
        hint = get_close_matches(value, options, n=1)
        advice = f"did you mean {hint[0]!r}? " if hint else ""
        return self.bad(key, value, f"is not a known {what}",
                        f"{advice}choose from {', '.join(options)}{also}")

    def keys(self, table: Mapping[str, Any], section: str, prefix: str) -> None:
        """Every key of `table` is one the schema knows for `section`."""
        known = self.schema[section]
        for key in table:
            if key not in known:
                hint = get_close_matches(str(key), known, n=1)
                advice = f"did you mean {prefix}{hint[0]}? " if hint else ""
                if section and key in self.schema[""]:  # TOML put a top-level key here
                    advice = (f"in TOML every key after [{section}] belongs to it: move "
                              f"{key} above the first [table], or write it as a table of "
                              "its own; ")
                place = prefix.rstrip(".") or "the top level"
                raise ScenarioError(f"{self.where}: unknown key {prefix}{key}; {advice}"
                                    f"{place} takes {', '.join(known)}")

    def table(self, doc: Mapping[str, Any], key: str, required: bool = False) -> dict[str, Any]:
        """The section `key` of `doc` ({} when absent and not required), its keys checked."""
        if key not in doc:
            if required:
                raise self.missing(f"[{key}]", f"add a [{key}] table (as in "
                                   "scenarios/quickstart.toml)")
            return {}
        value = doc[key]
        if not isinstance(value, dict):
            raise self.bad(key, value, "must be a table", f"write it as a [{key}] section")
        self.keys(value, key, f"{key}.")
        return value

    def text(self, value: object, key: str, example: str) -> str:
        """A non-empty string."""
        if not isinstance(value, str) or not value.strip():
            raise self.bad(key, value, "must be a non-empty string", f"e.g. {example}")
        return value

    def flag(self, value: object, key: str) -> bool:
        """true or false (a TOML boolean, not a string or a number)."""
        if not isinstance(value, bool):
            raise self.bad(key, value, "must be true or false", f"write {key.split('.')[-1]} "
                           "= true (no quotes)")
        return value

    def count(self, value: object, key: str) -> int:
        """A positive integer up to MAX_COUNT."""
        number = check_count(value, key, owner=self.where, meaning="", error=ScenarioError)
        if number > MAX_COUNT:
            raise self.bad(key, value, "is too large", f"use at most {MAX_COUNT:,}")
        return number

    def items(self, value: object, key: str, example: str,
              most: int = MAX_VALUES) -> list[tuple[str, object]]:
        """A value or a list of values, as (key path, value) pairs; never empty, never more
        than `most`."""
        if not isinstance(value, list):
            return [(key, value)]
        if not value:
            raise self.bad(key, value, "is empty", f"give at least one, e.g. {example}")
        if len(value) > most:
            raise ScenarioError(f"{self.where}: {key} lists {len(value):,} values; give at "
                                f"most {most:,} in one list")
        return [(f"{key}[{i}]", item) for i, item in enumerate(value)]

    def distinct(self, items: list[tuple[str, object]],
                 check: Callable[[object, str], T]) -> tuple[T, ...]:
        """Each item checked by `check(item, key)`; one listed twice is an error (found
        through a set: any number of items in linear time)."""
        chosen: dict[T, None] = {}
        for key, item in items:
            value = check(item, key)
            if value in chosen:
                raise self.bad(key, value, "is listed twice", "remove the repeat")
            chosen[value] = None
        return tuple(chosen)

    def choices(self, value: object, key: str, options: tuple[str, ...],
                what: str) -> tuple[str, ...]:
        """Distinct names from `options` (a list, or one name)."""
        chosen: list[str] = []
        for where_, item in self.items(value, key, f'{key.split(".")[-1]} = ["{options[0]}"]'):
            name = self.text(item, where_, f'"{options[0]}"')
            if name not in options:
                raise self.unknown(where_, name, options, what)
            chosen.append(self.unique(name, chosen, where_))
        return tuple(chosen)

    def unique(self, value: T, earlier: list[T], key: str) -> T:
        """`value`, unless it is already in `earlier`."""
        if value in earlier:
            raise self.bad(key, value, "is listed twice", "remove the repeat")
        return value
