"""Turn the raw form input for one question into the typed answer that is stored, or an error message.

validate_answer never raises, whatever it is given: a tampered or malformed form gets a message, not
a 500. Messages follow the GOV.UK Design System patterns ("Enter the date of death", "Date of death
must be a real date").

Follow-up questions are validated by the caller, separately and as questions of their own, and only
when the parent's typed answer reveals them (Question.shows_follow_up); the answer to a hidden
follow-up should be dropped, not stored.

Returns (value, None) when the answer is acceptable, with value typed:
  short_text, long_text, radios, age_band, time ("HH:MM"): str
  person_identifier: str, tidied (identifiers.tidy); its search key is made from it where it is indexed
  yes_no: "yes" or "no"; checkboxes: list of option values, in the options' order
  date: "YYYY-MM-DD"; datetime: "YYYY-MM-DDTHH:MM"; number: int, or float unless the rule says whole
  file: the raw input unchanged (files are checked where they are uploaded)
An optional question left empty gives (None, None), or ([], None) for checkboxes.
On an error the value is the cleaned input where there is one, so the form can show it again.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .definitions import Question
from .identifiers import ALLOWED, ALLOWED_WORDS, looks_like_a_date, tidy

# Providers are in England: "today" and "in the future" are judged by the clock they see.
LOCAL_TIME = ZoneInfo("Europe/London")
EARLIEST_YEAR = 1900

EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE_PATTERN = re.compile(r"\+?[0-9 ()-]+")
TIME_PATTERN = re.compile(r"([0-9]{1,2}):([0-9]{2})")
NUMBER_PATTERN = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
THOUSANDS_PATTERN = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?")
DATE_PARTS = ("day", "month", "year")
MONTH_NAMES = {
    **{name.lower(): number for number, name in enumerate(calendar.month_name) if name},
    **{name.lower(): number for number, name in enumerate(calendar.month_abbr) if name},
}

EMAIL_MESSAGE = "Enter an email address in the correct format, like name@example.com"
PHONE_MESSAGE = "Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"
TIME_MESSAGE = "Enter a time like 14:30"

Result = tuple[Any, "str | None"]


def validate_answer(question: Question, raw: Any, *, now: datetime | None = None) -> Result:
    """now: the local time to judge past and future by, for tests; defaults to the time in England."""
    if now is None:
        now = datetime.now(LOCAL_TIME).replace(tzinfo=None)
    validator = _VALIDATORS.get(question.kind)
    if validator is None:
        return None, f"{_name(question)} cannot be answered here"
    return validator(question, raw, now)


def _name(question: Question) -> str:
    return question.rules.get("error_name") or question.label


def _lower_first(text: str) -> str:
    # GOV.UK lowers the first letter mid-sentence ("Enter the date"), but not an acronym ("NHS number").
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _required(question: Question, verb: str) -> str:
    return question.rules.get("required_message") or f"{verb} {_lower_first(_name(question))}"


def _clean(text: str) -> str:
    # PostgreSQL refuses NUL in text, and nobody types one on purpose.
    return text.replace("\x00", "").strip()


def has_visible_character(text: str) -> bool:
    """False for text made only of spaces and invisible format characters (zero-width space, joiners,
    byte-order marks): such an answer reads as blank on every page, so a required question is unanswered."""
    return any(not character.isspace() and unicodedata.category(character) != "Cf" for character in text)


def _one_string(raw: Any) -> str | None:
    """The cleaned text of a single-value input, or None when the input is not a string at all."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        return None
    return _clean(raw)


def _empty(question: Question, verb: str, empty_value: Any = None) -> Result:
    return (None, _required(question, verb)) if question.required else (empty_value, None)


def _text(question: Question, raw: Any, now: datetime) -> Result:
    text = _one_string(raw)
    if text is None:
        return None, f"{_name(question)} must be text"
    if question.kind == "long_text":
        # Browsers send line breaks as CRLF; the character count people see counts each as one.
        text = text.replace("\r\n", "\n")
    if not text or not has_visible_character(text):
        return _empty(question, "Enter")
    limit = question.rules.get("max_length", 200)
    if len(text) > limit:
        return text, f"{_name(question)} must be {limit:,} characters or fewer"
    text_format = question.rules.get("format")
    if text_format == "email" and not EMAIL_PATTERN.fullmatch(text):
        return text, EMAIL_MESSAGE
    if text_format == "phone":
        digits = sum(character.isdigit() for character in text)
        if not PHONE_PATTERN.fullmatch(text) or not 7 <= digits <= 15:
            return text, PHONE_MESSAGE
    return text, None


def _not_in_list(question: Question) -> str:
    # bandit's B608 reads GOV.UK messages that start "Select ..." as SQL; this string never reaches a database.
    return f"Select {_lower_first(_name(question))} from the list"  # nosec B608


def _choice(question: Question, raw: Any, now: datetime) -> Result:
    text = _one_string(raw)
    if text is None:
        return None, _not_in_list(question)
    if not text:
        return _empty(question, "Select")
    if text not in [value for value, _ in question.choices()]:
        return None, _not_in_list(question)
    return text, None


def _yes_no(question: Question, raw: Any, now: datetime) -> Result:
    text = _one_string(raw)
    if text is None:
        return None, "Select yes or no"
    if not text:
        return _empty(question, "Select")
    if text.lower() not in ("yes", "no"):
        return None, "Select yes or no"
    return text.lower(), None


def _checkboxes(question: Question, raw: Any, now: datetime) -> Result:
    unknown = _not_in_list(question)
    if raw is None:
        raw = []
    if not isinstance(raw, (list, tuple)) or not all(isinstance(item, str) for item in raw):
        return [], unknown
    ticked = {_clean(item) for item in raw} - {""}
    values = [value for value, _ in question.options]
    if ticked - set(values):
        return [], unknown
    chosen = [value for value in values if value in ticked]
    if not chosen:
        return _empty(question, "Select", empty_value=[])
    none_option = question.rules.get("none_option")
    if none_option in chosen and len(chosen) > 1:
        none_label = dict(question.options)[none_option]
        return chosen, f'{_required(question, "Select")}, or select "{none_label}"'
    return chosen, None


def _parse_time(text: str) -> str | None:
    match = TIME_PATTERN.fullmatch(text)
    if not match:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if hours > 23 or minutes > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"


def _time(question: Question, raw: Any, now: datetime) -> Result:
    text = _one_string(raw)
    if text is None:
        return None, TIME_MESSAGE
    if not text:
        return _empty(question, "Enter")
    parsed = _parse_time(text)
    if parsed is None:
        return text, TIME_MESSAGE
    return parsed, None


def _number(question: Question, raw: Any, now: datetime) -> Result:
    name = _name(question)
    text = _one_string(raw)
    if text is None:
        return None, f"{name} must be a number"
    if not text:
        return _empty(question, "Enter")
    # "1,200" is twelve hundred, but "1,5" may mean one and a half, so only real thousands groups go.
    digits = text.replace(",", "") if THOUSANDS_PATTERN.fullmatch(text) else text
    if not NUMBER_PATTERN.fullmatch(digits):
        return text, f"{name} must be a number"
    number = Decimal(digits)
    is_whole = number == number.to_integral_value()
    if question.rules.get("whole") and not is_whole:
        return text, f"{name} must be a whole number"
    low, high = question.rules.get("min"), question.rules.get("max")
    if low is not None and high is not None and not low <= number <= high:
        return text, f"{name} must be between {_show(low)} and {_show(high)}"
    if low is not None and number < low:
        return text, f"{name} must be {_show(low)} or more"
    if high is not None and number > high:
        return text, f"{name} must be {_show(high)} or less"
    if low is None and high is None and len(digits) > 30:
        return text, f"{name} must be a smaller number"
    return (int(number) if is_whole else float(number)), None


def _show(number: int | float) -> str:
    if isinstance(number, float) and not number.is_integer():
        return str(number)
    return f"{int(number):,}"


def _date_parts(raw: Any, parts: tuple[str, ...]) -> dict[str, str] | None:
    """The cleaned text of each part of a date input, or None when the input has the wrong shape."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return None
    entered = {}
    for part in parts:
        value = raw.get(part)
        value = "" if value is None else value
        if not isinstance(value, str):
            return None
        entered[part] = _clean(value)
    return entered


def _missing(name: str, missing: list[str]) -> str:
    if len(missing) == 3:
        return f"{name} must include a date"
    return f"{name} must include a {' and '.join(missing)}"


def _to_date(entered: dict[str, str]) -> date | None:
    day, month, year = entered["day"], entered["month"], entered["year"]
    month_number = MONTH_NAMES.get(month.lower()) if month.isascii() and month.isalpha() else None
    if month_number is None and re.fullmatch(r"[0-9]{1,2}", month):
        month_number = int(month)
    if month_number is None or not re.fullmatch(r"[0-9]{1,2}", day) or not re.fullmatch(r"[0-9]{4}", year):
        return None
    if int(year) < EARLIEST_YEAR:
        return None
    try:
        return date(int(year), month_number, int(day))
    except ValueError:
        return None


def _date_rules(question: Question, when: date | datetime, now: datetime) -> str | None:
    name, rules = _name(question), question.rules
    present = now if isinstance(when, datetime) else now.date()
    if rules.get("not_in_future") and when > present:
        return f"{name} must be {'now' if isinstance(when, datetime) else 'today'} or in the past"
    if rules.get("not_in_past") and when < present:
        return f"{name} must be {'now' if isinstance(when, datetime) else 'today'} or in the future"
    if rules.get("not_before_days"):
        earliest = now.date() - timedelta(days=rules["not_before_days"])
        day = when.date() if isinstance(when, datetime) else when
        if day < earliest:
            return f"{name} must be on or after {earliest.day} {earliest:%B %Y}"
    return None


def _date(question: Question, raw: Any, now: datetime) -> Result:
    name = _name(question)
    entered = _date_parts(raw, DATE_PARTS)
    if entered is None:
        return None, f"{name} must be a real date"
    if not any(entered.values()):
        return _empty(question, "Enter")
    missing = [part for part in DATE_PARTS if not entered[part]]
    if missing:
        return entered, _missing(name, missing)
    day = _to_date(entered)
    if day is None:
        return entered, f"{name} must be a real date"
    error = _date_rules(question, day, now)
    return (entered, error) if error else (day.isoformat(), None)


def _datetime(question: Question, raw: Any, now: datetime) -> Result:
    name = _name(question)
    entered = _date_parts(raw, DATE_PARTS + ("time",))
    if entered is None:
        return None, f"{name} must be a real date"
    if not any(entered.values()):
        return _empty(question, "Enter")
    missing = [part for part in DATE_PARTS if not entered[part]]
    if missing:
        return entered, _missing(name, missing)
    day = _to_date(entered)
    if day is None:
        return entered, f"{name} must be a real date"
    if not entered["time"]:
        return entered, f"{name} must include a time"
    time_text = _parse_time(entered["time"])
    if time_text is None:
        return entered, TIME_MESSAGE
    moment = datetime.fromisoformat(f"{day.isoformat()}T{time_text}")
    error = _date_rules(question, moment, now)
    return (entered, error) if error else (moment.strftime("%Y-%m-%dT%H:%M"), None)


def _person_identifier(question: Question, raw: Any, now: datetime) -> Result:
    name = _name(question)
    text = _one_string(raw)
    if text is None:
        return None, f"{name} must be text"
    text = tidy(text)
    if not text or not has_visible_character(text):
        return _empty(question, "Enter")
    limit = question.rules.get("max_length", 50)
    if len(text) > limit:
        return text, f"{name} must be {limit:,} characters or fewer"
    # Checked before the characters: "12/03/1950" is made of allowed ones, and "12 March 1950" must be
    # told the real reason, not that it may not hold commas.
    if looks_like_a_date(text):
        return text, (
            "Do not use the person’s date of birth. Enter the identifier your service uses for them in its "
            "own records, for example a care record number"
        )
    if not ALLOWED.fullmatch(text):
        return text, f"{name} must only include {ALLOWED_WORDS}"
    # Record numbers, NHS numbers and room or record codes all hold a digit; a name ("John Smith") or
    # punctuation alone ("-") does not, and would file unrelated people's notifications together.
    if not any(character in "0123456789" for character in text):
        return text, (
            "Enter the record number your service uses for the person, not their name. "
            f"{name} must include at least one number"
        )
    return text, None


def _file(question: Question, raw: Any, now: datetime) -> Result:
    return raw, None


_VALIDATORS: dict[str, Callable[[Question, Any, datetime], Result]] = {
    "short_text": _text,
    "long_text": _text,
    "radios": _choice,
    "age_band": _choice,
    "checkboxes": _checkboxes,
    "yes_no": _yes_no,
    "date": _date,
    "time": _time,
    "datetime": _datetime,
    "number": _number,
    "file": _file,
    "person_identifier": _person_identifier,
}
