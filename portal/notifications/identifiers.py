"""A provider's own identifier for a person who uses its service: how it is written, checked and matched.

People using services are never named to the regulator. A provider identifies them by the number its
own records use ("CR-00123", an NHS number), so that its notifications about one person can be found
together, by the provider and by the regulator's support team, without a name ever being stored.

Two forms of one identifier:
- the answer, stored as the person typed it, tidied: compatibility characters folded (NFKC, so a
  full-width "ＣＲ－００１２３" typed through an input method is "CR-00123"), spaces trimmed and runs of
  them made one;
- the search key, which two ways of typing one identifier share: upper and lower case are the same
  ("cr-00123" finds "CR-00123") and spaces are dropped, because NHS numbers are written both
  "943 476 5919" and "9434765919". Hyphens, slashes and the like are kept: they are part of many
  providers' numbering, and two records differing only there are not obviously one person.

The provider's own reference for a notification (the about_you section's provider_reference, free
text) is matched by the same search key, so support finds "INC 2024/17" typed either way.
"""

from __future__ import annotations

import calendar
import re
import unicodedata

# Letters and digits of the Latin alphabet only: identifiers come from record systems, and a Cyrillic
# "С" that looks like a Latin "C" would make one person's records never match.
ALLOWED = re.compile(r"[A-Za-z0-9 ./_-]+")
ALLOWED_WORDS = "letters, numbers, spaces, hyphens (-), full stops (.), slashes (/) and underscores (_)"
# The index's column: a provider reference is up to 100 characters, and casefolding can lengthen text.
SEARCH_KEY_MAX = 200

_SEPARATOR = r"[ /.-]"
# 12/03/1950, 12.3.50, 3-25-1950: day and month either way round, then the year.
_NUMERIC_DATE = re.compile(
    rf"(?<![0-9])(?P<a>[0-9]{{1,2}}){_SEPARATOR}(?P<b>[0-9]{{1,2}}){_SEPARATOR}(?P<year>[0-9]{{4}}|[0-9]{{2}})(?![0-9])"
)
# 1950-03-12
_ISO_DATE = re.compile(
    rf"(?<![0-9])(?P<year>[0-9]{{4}}){_SEPARATOR}(?P<a>[0-9]{{1,2}}){_SEPARATOR}(?P<b>[0-9]{{1,2}})(?![0-9])"
)
_MONTHS = "|".join(
    sorted(
        {name.lower() for name in calendar.month_name if name} | {name.lower() for name in calendar.month_abbr if name},
        key=len,
        reverse=True,
    )
)
# 12 March 1950, 12-Mar-50, March 12th 1950.
_DAY = r"[0-9]{1,2}(?:st|nd|rd|th)?"
_WORDED_DATE = re.compile(
    rf"(?<![0-9a-z])(?:{_DAY}[ ./-]*(?:{_MONTHS})|(?:{_MONTHS})[ ./-]*{_DAY})"
    rf"[ ./,-]*(?P<year>[0-9]{{4}}|[0-9]{{2}})(?![0-9])"
)


def tidy(text: str) -> str:
    """The answer as stored and shown: NFKC, trimmed, each run of spaces one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def search_key(text: str) -> str:
    """What two ways of typing one identifier (or provider reference) have in common."""
    return "".join(tidy(text).casefold().split())[:SEARCH_KEY_MAX]


def _is_day_and_month(first: int, second: int) -> bool:
    # Either order: 12/03 is the British way round, 03/25 the American.
    return (1 <= first <= 31 and 1 <= second <= 12) or (1 <= first <= 12 and 1 <= second <= 31)


def _is_a_date(match: re.Match, text: str) -> bool:
    """A four-digit year in the last two centuries anywhere in the answer; a two-digit year only when the
    date is the whole answer, since "RX 10 11 12" inside a longer number is more likely a record number."""
    year = match["year"]
    if len(year) == 4 and not 1900 <= int(year) <= 2100:
        return False
    if len(year) == 2 and match.span() != (0, len(text)):
        return False
    worded = "a" not in match.groupdict()
    return worded or _is_day_and_month(int(match["a"]), int(match["b"]))


def looks_like_a_date(text: str) -> bool:
    """Whether the answer is, or holds, a date, as a date of birth typed in place of an identifier would.

    Only dates written as dates are caught (with separators or a month's name): eight digits running
    together are a plausible record number, and refusing a real identifier would leave the provider no
    way to notify at all.
    """
    lowered = tidy(text).lower()
    return any(
        _is_a_date(match, lowered)
        for pattern in (_NUMERIC_DATE, _ISO_DATE, _WORDED_DATE)
        for match in pattern.finditer(lowered)
    )
