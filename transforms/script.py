"""Which Chinese script an article is written in; the text itself is never converted."""

from __future__ import annotations

import hanzidentifier

# ISO 15924 codes where the script is known; Hani when every character is shared by both.
SCRIPTS = ("Hans", "Hant", "Hani", "mixed", "none")
_CODES = {
    hanzidentifier.SIMPLIFIED: "Hans",
    hanzidentifier.TRADITIONAL: "Hant",
    hanzidentifier.BOTH: "Hani",
    hanzidentifier.MIXED: "mixed",
    hanzidentifier.UNKNOWN: "none",
}


def detect_script(text: str) -> str:
    """Hans (Simplified), Hant (Traditional), Hani (either), mixed, or none (no Chinese)."""
    return _CODES[hanzidentifier.identify(text)]
