"""Reading what people type outside a call for help: does it ask for help, or say "safe"?

English, Russian and French, as people type under stress: any case, accents or none,
repeated punctuation ("HELP!!"), straight or curly apostrophes.
"""

from __future__ import annotations

import re
import unicodedata

# Words that ask for help only when they are (nearly) all the message says: "help" in
# "can you help me subscribe" is no emergency.
_WHOLE = frozenset(
    {
        "help",
        "help me",
        "help us",
        "help please",
        "please help",
        "sos",
        "emergency",
        "помощь",
        "aide",
        "a l aide",
        "aidez moi",
        "aidez nous",
        "urgence",
    }
)
# Phrases that ask for help wherever they stand in a message.
_ANYWHERE: tuple[str, ...] = (
    "i need help",
    "we need help",
    "need help now",
    "not safe",
    "sos",
    "помогите",
    "нужна помощь",
    "спасите",
    "не в безопасности",
    "au secours",
    "a l aide",
    "besoin d aide",
    "pas en securite",
)
_SAFE = frozenset(
    {
        "safe",
        "i m safe",
        "im safe",
        "i am safe",
        "we are safe",
        "we re safe",
        "all safe",
        "all good i m safe",
        "я в безопасности",
        "в безопасности",
        "je suis en securite",
        "nous sommes en securite",
        "en securite",
    }
)

# Saying so in the first person is enough wherever it stands: "Sorry, my phone was off.
# I'm safe, at home." (the button still asks; the words go with it as the note).
_SAFE_ANYWHERE: tuple[str, ...] = (
    "i m safe",
    "im safe",
    "i am safe",
    "we are safe",
    "we re safe",
    "we are all safe",
    "we re all safe",
    "я в безопасности",
    "мы в безопасности",
    "je suis en securite",
    "nous sommes en securite",
)


def normalise(text: str) -> str:
    """Lower case, accents gone, anything but letters and digits a single space."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


# The lists read as `normalise` leaves the text (a "й" loses its breve too).
_WHOLE = frozenset(map(normalise, _WHOLE))
_ANYWHERE = tuple(map(normalise, _ANYWHERE))
_SAFE = frozenset(map(normalise, _SAFE))
_SAFE_ANYWHERE = tuple(map(normalise, _SAFE_ANYWHERE))


def _has(words: str, phrase: str) -> bool:
    return f" {phrase} " in f" {words} "


# Where a message's opening clause ends: "Help, men with guns at the door", "SOS - car
# crash", "HELP!!! they are shooting".
_CLAUSE_END = re.compile(r"[,.!?:;…\n]|\s[-–—]\s?")


def reads_as_call_for_help(text: str) -> bool:
    words = normalise(text)
    opening = normalise(_CLAUSE_END.split(text.strip(), maxsplit=1)[0])
    return words in _WHOLE or opening in _WHOLE or any(_has(words, phrase) for phrase in _ANYWHERE)


def reads_as_safe(text: str) -> bool:
    """ "I'm safe" and the like (never when it also asks for help: "not safe")."""
    if reads_as_call_for_help(text):
        return False
    words = normalise(text)
    return words in _SAFE or any(_has(words, phrase) for phrase in _SAFE_ANYWHERE)
