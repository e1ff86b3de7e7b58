"""Sweep constraints: a tiny, safe expression language (parsed here, never `eval`'d).

    constraint := all ("or" all)*
    all        := comparison ("and" comparison)*
    comparison := sum (op sum)+          op: == != < <= > >=  (chains: 8 <= batch <= 256)
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" unary | atom
    atom       := number | "text" | 'text' | name | "(" sum ")"

A name is an axis ("tpu.array_rows", "batch"), "network", or any other name the sweep offers
(a spec field it does not sweep stands for the preset's value). Numbers are TOML's and
Python's (1e9, 34_000_000_000, 0.5). Text compares only with == and != (`precision ==
"int8"`, `network != "lstm-char"`); numbers compare and compute as Python's floats and ints
(True and False as 1 and 0). A point is kept when every constraint holds; a division by zero
makes its comparison false. `and` binds tighter than `or` (`network != "tpu-cnn0" or batch
<= 64` ties a batch limit to one network); several constraints must all hold. Mistakes (an
unknown name with a did-you-mean, text compared with `<`, a stray token) are
`AccelsimError`s naming the constraint and the place.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from difflib import get_close_matches
from typing import Any

from accelsim.errors import AccelsimError

Env = Mapping[str, Any]
Expr = Callable[[Env], Any]
NUMBER, TEXT = "number", "text"
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge,
    "<": operator.lt, ">": operator.gt}
ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
_TOKEN = re.compile(r"""\s*(?:
    (?P<number>(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)
  | (?P<text>"[^"]*"|'[^']*')
  | (?P<op>==|!=|<=|>=|<|>|[-+*/()])
  )""", re.VERBOSE)


class _Parser:
    """Recursive descent over the tokens of one constraint; each node is (kind, closure)."""

    def __init__(self, text: str, kinds: Mapping[str, str]) -> None:
        self.text, self.kinds = text, kinds
        self.tokens = _tokens(text)
        self.at = 0

    def fail(self, problem: str) -> AccelsimError:
        shown = self.text if len(self.text) <= 80 else f"{self.text[:77]}..."
        return AccelsimError(f"constraint {shown!r}: {problem}; write e.g. "
                             "\"tpu.array_rows == tpu.array_cols\" or \"batch <= 256\"")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise self.fail("it ends too soon")
        self.at += 1
        return token

    def constraint(self) -> Expr:
        expr = self._joined("or", any, self.conjunction)
        if (token := self.peek()) is not None:
            raise self.fail(f"unexpected {token[1]!r}")
        return expr

    def conjunction(self) -> Expr:
        return self._joined("and", all, self.comparison)

    def _joined(self, word: str, combine: Callable[[Any], bool],
                part: Callable[[], Expr]) -> Expr:
        parts = [part()]
        while self.peek() == ("name", word):
            self.at += 1
            parts.append(part())
        if len(parts) == 1:
            return parts[0]
        return lambda env: combine(p(env) for p in parts)

    def comparison(self) -> Expr:
        first = self.sum()
        links: list[tuple[str, tuple[str, Expr]]] = []
        while (token := self.peek()) is not None and token[1] in COMPARE:
            self.at += 1
            links.append((token[1], self.sum()))
        if not links:
            if token is not None and token[1] not in ("and", "or"):
                raise self.fail(f"unexpected {token[1]!r}")
            raise self.fail("it compares nothing (use ==, !=, <, <=, > or >=)")
        return self._chain(first, links)

    def _chain(self, first: tuple[str, Expr], links: list[tuple[str, tuple[str, Expr]]]
               ) -> Expr:
        steps: list[tuple[Callable[[Any, Any], bool], Expr, Expr]] = []
        left = first
        for op, right in links:
            if left[0] != right[0]:
                raise self.fail(f"{op} compares text with a number")
            if left[0] == TEXT and op not in ("==", "!="):
                raise self.fail(f"text compares only with == or !=, not {op}")
            steps.append((COMPARE[op], left[1], right[1]))
            left = right
        return lambda env: all(cmp(a(env), b(env)) for cmp, a, b in steps)

    def sum(self) -> tuple[str, Expr]:
        return self._binary(self.product, ("+", "-"))

    def product(self) -> tuple[str, Expr]:
        return self._binary(self.unary, ("*", "/"))

    def _binary(self, operand: Callable[[], tuple[str, Expr]], ops: Sequence[str]
                ) -> tuple[str, Expr]:
        kind, expr = operand()
        while (token := self.peek()) is not None and token[1] in ops:
            self.at += 1
            right_kind, right = operand()
            if TEXT in (kind, right_kind):
                raise self.fail(f"{token[1]} needs numbers, not text")
            expr = _apply(ARITHMETIC[token[1]], expr, right)
        return kind, expr

    def unary(self) -> tuple[str, Expr]:
        if self.peek() == ("op", "-"):
            self.at += 1
            kind, inner = self.unary()
            if kind == TEXT:
                raise self.fail("- needs a number, not text")
            return NUMBER, lambda env: -inner(env)
        return self.atom()

    def atom(self) -> tuple[str, Expr]:
        kind, text = self.take()
        if kind == "number":
            number = float(text) if any(c in text for c in ".eE") else int(text)
            return NUMBER, lambda env: number
        if kind == "text":
            value = text[1:-1]
            return TEXT, lambda env: value
        if kind == "name":
            return self._name(text)
        if text == "(":
            inner = self.sum()
            if self.take() != ("op", ")"):
                raise self.fail("a ( is not closed")
            return inner
        raise self.fail(f"unexpected {text!r}")

    def _name(self, name: str) -> tuple[str, Expr]:
        if name not in self.kinds:
            hint = get_close_matches(name, list(self.kinds), n=1)
            advice = f"did you mean {hint[0]!r}? " if hint else ""
            raise self.fail(f"{name!r} is not an axis or a name of this sweep; {advice}names: "
                            f"{', '.join(self.kinds)}")
        return self.kinds[name], operator.itemgetter(name)


def _apply(op: Callable[[Any, Any], Any], left: Expr, right: Expr) -> Expr:
    return lambda env: op(left(env), right(env))


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    while text[at:].strip():
        found = _TOKEN.match(text, at)
        if found is None or found.lastgroup is None:
            shown = text[at:].strip()[:20]
            raise AccelsimError(f"constraint {text!r}: cannot read {shown!r}; use axis names, "
                                "numbers, \"text\", + - * / ( ) and == != < <= > >=")
        tokens.append((found.lastgroup, found.group(found.lastgroup)))
        at = found.end()
    return tokens


def compile_constraint(text: object, kinds: Mapping[str, str]) -> Callable[[Env], bool]:
    """A checked constraint as a function of a point's values ({name: value}); `kinds` maps
    each name it may use to "number" or "text"."""
    if not isinstance(text, str) or not text.strip():
        raise AccelsimError(f"constraint {text!r} must be a non-empty string, e.g. "
                            "\"batch <= 256\"")
    parser = _Parser(text, kinds)
    try:
        check = parser.constraint()
    except AccelsimError:
        raise
    except (ValueError, RecursionError):  # a number int() refuses; nesting past the stack
        raise parser.fail("it is not a number, a name or a comparison this parser reads "
                          "(numbers like 256 or 8.5e9; brackets nested a few levels)") from None

    def holds(env: Env) -> bool:
        try:
            return bool(check(env))
        except ZeroDivisionError:
            return False

    return holds
