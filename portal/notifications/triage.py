"""Which notification do I need: the question pages' data (triage.toml), and where a set of answers has got to.

The answers so far travel in the page's query string, one parameter per question, so the journey needs no
session and no JavaScript, and Back is the same address with the last answer taken off.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .registry import definition

TRIAGE_FILE = Path(__file__).with_name("triage.toml")


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    hint: str = ""
    next: str | None = None
    adds: tuple[str, ...] = ()
    note: str = ""
    ending: str = ""


@dataclass(frozen=True)
class TriageQuestion:
    key: str
    question: str
    hint: str
    options: tuple[Option, ...]

    def option(self, value: str | None) -> Option | None:
        return next((option for option in self.options if option.value == value), None)


@dataclass(frozen=True)
class Tree:
    first: str
    questions: Mapping[str, TriageQuestion]


def load_tree(path: Path = TRIAGE_FILE) -> Tree:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    questions: dict[str, TriageQuestion] = {}
    for entry in data["questions"]:
        options = tuple(
            Option(
                value=o["value"],
                label=o["label"],
                hint=o.get("hint", ""),
                next=o.get("next"),
                adds=tuple(o.get("adds", ())),
                note=o.get("note", ""),
                ending=o.get("ending", ""),
            )
            for o in entry["options"]
        )
        questions[entry["key"]] = TriageQuestion(entry["key"], entry["question"], entry.get("hint", ""), options)
    tree = Tree(first=data["questions"][0]["key"], questions=questions)
    _check(tree)
    return tree


def _check(tree: Tree) -> None:
    """Refuses at start-up a tree that would strand someone: an unknown next question or type, or an ending
    that names no type and says nothing."""
    for question in tree.questions.values():
        for option in question.options:
            if option.next is not None and option.next not in tree.questions:
                raise ValueError(f"triage: {question.key}={option.value} leads to unknown question {option.next}")
            for key in option.adds:
                if definition(key) is None:
                    raise ValueError(f"triage: {question.key}={option.value} adds unknown type {key}")


@lru_cache(maxsize=1)
def tree() -> Tree:
    return load_tree()


@dataclass(frozen=True)
class Answered:
    question: TriageQuestion
    option: Option


@dataclass(frozen=True)
class Place:
    """Where a set of answers has got to: the answers that count, then a question to ask or an ending."""

    answered: tuple[Answered, ...]
    question: TriageQuestion | None
    # The answer given to `question` was not one of its options (a changed address): ask it again, saying so.
    invalid: bool = False

    @property
    def types(self) -> list[str]:
        """Every type added along the way, once each, in the order they were added."""
        seen: list[str] = []
        for step in self.answered:
            seen += [key for key in step.option.adds if key not in seen]
        return seen

    @property
    def notes(self) -> list[str]:
        return [step.option.note for step in self.answered if step.option.note]

    @property
    def ending(self) -> str:
        return next((step.option.ending for step in reversed(self.answered) if step.option.ending), "")

    def query(self, upto: int | None = None) -> list[tuple[str, str]]:
        """The query string parameters for the first `upto` answers (all by default)."""
        return [(step.question.key, step.option.value) for step in self.answered[:upto]]


def walk(answers: Mapping[str, str], of: Tree | None = None) -> Place:
    """Follows the answers from the first question. Answers to questions off the path are ignored, so an
    address someone edited or a Back then a different choice cannot mix two journeys."""
    of = of or tree()
    answered: list[Answered] = []
    key: str | None = of.first
    while key is not None:
        question = of.questions[key]
        given = answers.get(key)
        option = question.option(given)
        if option is None or any(step.question.key == key for step in answered):
            return Place(tuple(answered), question, invalid=given is not None and option is None)
        answered.append(Answered(question, option))
        key = option.next
    return Place(tuple(answered), None)
