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
