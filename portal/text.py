"""Words for numbers that pages and messages show people, written one way everywhere."""

from __future__ import annotations

# The language every page is written in: <html lang>, and the language One Login is asked to speak
# (ui_locales), so a person moving between the two reads one language.
PAGE_LANGUAGE = "en"

KB = 1024
MB = 1024 * 1024


def byte_size(size: int) -> str:
    """ "812 bytes", "3 KB", "1.2 MB", "50 MB": whole kilobytes, megabytes to one place, halves rounded up.

    Integer arithmetic, so a size exactly half-way always rounds the same way (floats round half
    to even, which made 2.5 KB read "2 KB" in one place and "3 KB" in another).
    """
    if size < KB:
        return f"{size} bytes"
    kilobytes = (size + KB // 2) // KB
    if kilobytes < 1024:
        return f"{kilobytes} KB"
    tenths = (size * 10 + MB // 2) // MB
    whole, tenth = divmod(tenths, 10)
    return f"{whole} MB" if tenth == 0 else f"{whole}.{tenth} MB"


# Words whose first letter is a vowel but whose first sound is not ("a user", "a one-off"), and words whose
# first letter is a consonant but whose first sound is a vowel ("an hour"). Lower case, first word only.
_A_BEFORE = ("one", "once", "use", "user", "usual", "unit", "uni", "euro", "eu")
_AN_BEFORE = ("hour", "honest", "honour", "heir")


def article(phrase: str) -> str:
    """ "a" or "an" for the phrase that follows, by its first sound as far as spelling tells: "an Abuse or
    allegation of abuse", "a Serious injury", "an hour", "a user". Capitals are the phrase's own."""
    word = phrase.strip().split(" ", 1)[0].lower() if phrase.strip() else ""
    if not word:
        return "a"
    if any(word.startswith(prefix) for prefix in _A_BEFORE):
        return "a"
    if any(word.startswith(prefix) for prefix in _AN_BEFORE):
        return "an"
    # An initialism said letter by letter: "an MHA", "an RSA key", "a DoLS" is said as a word, so letters only
    # when the whole word is capitals.
    if word.upper() == phrase.strip().split(" ", 1)[0] and len(word) > 1 and word.isalpha():
        return "an" if word[0] in "aefhilmnorsx" else "a"
    return "an" if word[0] in "aeiou" else "a"


def with_article(phrase: str) -> str:
    """ "an Abuse or allegation of abuse", "a Serious injury"."""
    return f"{article(phrase)} {phrase}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """The noun for a count: plural(1, "minute") is "minute", plural(2, "minute") is "minutes"."""
    return singular if count == 1 else (plural_form or f"{singular}s")


def count_of(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 minute", "2 minutes", "0 notifications", "3 people" (count_of(3, "person", "people"))."""
    return f"{count} {plural(count, singular, plural_form)}"


def time_of_day(moment) -> str:
    """GOV.UK style: "8am", "8:48am", "midday", "midnight" (never "12pm", which people read two ways)."""
    if moment.hour == 0 and moment.minute == 0:
        return "midnight"
    if moment.hour == 12 and moment.minute == 0:
        return "midday"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def date_words(day) -> str:
    """GOV.UK style: "2 December 2026"."""
    return f"{day.day} {day.strftime('%B')} {day.year}"


def date_time_words(moment) -> str:
    """GOV.UK style: "8:48am on 2 December 2026"."""
    return f"{time_of_day(moment)} on {date_words(moment)}"


# How a reference is read aloud: each character's name, so "B" and "D" or "M" and "N" are not confused on
# the phone. Digits are said as themselves; letters by the NATO spelling alphabet, which support staff know.
_SPELLING = {
    "A": "Alpha", "B": "Bravo", "C": "Charlie", "D": "Delta", "E": "Echo", "F": "Foxtrot", "G": "Golf",
    "H": "Hotel", "I": "India", "J": "Juliett", "K": "Kilo", "L": "Lima", "M": "Mike", "N": "November",
    "O": "Oscar", "P": "Papa", "Q": "Quebec", "R": "Romeo", "S": "Sierra", "T": "Tango", "U": "Uniform",
    "V": "Victor", "W": "Whiskey", "X": "X-ray", "Y": "Yankee", "Z": "Zulu",
}  # fmt: skip


def reference_groups(reference: str, size: int = 4) -> str:
    """ "ABCD 1234": groups of four, the way people read a reference out and copy it down."""
    return " ".join(reference[i : i + size] for i in range(0, len(reference), size))


def reference_spelt(reference: str) -> str:
    """ "A for Alpha, B for Bravo, 1, 2": each character on its own, for a screen reader and for the phone."""
    return ", ".join(
        f"{char} for {_SPELLING[char.upper()]}" if char.upper() in _SPELLING else char for char in reference
    )
