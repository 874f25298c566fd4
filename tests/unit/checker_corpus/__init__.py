"""A corpus of answers to the exercises, written from the exercise texts as a class would write
them: correct answers written differently, and the mistakes students make. Each module holds one
chapter's answers; `right(exercise)` and `wrong(exercise, *phrases)` register them, and
tests/unit/test_checker_corpus.py runs every answer through its exercise's checker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    """One answer to `exercise`: correct when `phrases` is None, else wrong, with the phrases
    that the checker's message must contain (the mistake's hint, or the generic message)."""

    exercise: str
    function: Callable
    phrases: tuple[str, ...] | None

    @property
    def id(self) -> str:
        return f"{self.exercise}-{self.function.__name__}"


CORPUS: list[Answer] = []


def right(exercise: str) -> Callable[[Callable], Callable]:
    """Register a correct answer to `exercise`."""

    def add(function: Callable) -> Callable:
        CORPUS.append(Answer(exercise, function, None))
        return function

    return add


def wrong(exercise: str, *phrases: str) -> Callable[[Callable], Callable]:
    """Register a wrong answer to `exercise` whose message must contain `phrases`."""

    def add(function: Callable) -> Callable:
        CORPUS.append(Answer(exercise, function, phrases))
        return function

    return add
