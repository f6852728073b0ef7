"""The language of a video: the source's own ``language`` column when it has one, else detected from the title.

    language_of("라면 꿀팁 실험해봤습니다", None)    # "ko" (detected)
    language_of("Receta fácil", "es-MX")            # "es" (the source's, primary subtag)
    language_of("🔥🔥🔥", None)                       # None: nothing to tell a language by

Codes are ISO 639-1 where there is one ("pt-BR" → "pt", "zh-Hans" → "zh"); a source's "un", "und" or
"zxx" is no language. Detection goes by script where a script names one language (Hangul: Korean; kana:
Japanese; Han alone: Chinese; Thai), and otherwise by ``py3langid`` (a naive Bayes model over byte
n-grams, 4.6 MB, packaged; its 114 languages with a two-letter code) kept only when it is at least
``MIN_CONFIDENCE`` sure; titles with fewer than ``MIN_LETTERS`` letters (emoji, numbers) get none.
Hashtags and comma-joined tag lists read as words ("#receta", "Woodworking,Craft"), links do not.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from functools import lru_cache

MIN_LETTERS = 4
MIN_CONFIDENCE = 0.3  # on SMP-Video's posts with a language: 87% agree, 4% differ, 9% left undetected
NO_LANGUAGE = {"", "un", "und", "unknown", "zxx", "xx", "mul", "none", "null", "nan"}
SCRIPT_LANGUAGE = {"HANGUL": "ko", "HIRAGANA": "ja", "KATAKANA": "ja", "CJK": "zh", "THAI": "th"}
_URL = re.compile(r"https?://\S+|www\.\S+")
_GLUE = re.compile(r"[#,_|/]+")  # hashtag marks and tag-list separators read as spaces
_IDENTIFIER: list = []
_LOCK = threading.Lock()


def normalise_language(code: object) -> str | None:
    """A source's language tag as a lower-case primary subtag, or None for an empty or 'unknown' one."""
    if not isinstance(code, str):
        return None
    primary = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return None if primary in NO_LANGUAGE or not primary.isalpha() or len(primary) > 3 else primary


def _identifier():
    with _LOCK:
        if not _IDENTIFIER:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True, min_confidence=MIN_CONFIDENCE)
            ident.set_languages([lang for lang in ident.labels if len(lang) == 2])  # the ISO 639-1 languages
            _IDENTIFIER.append(ident)
        return _IDENTIFIER[0]


def scripts(text: str) -> Counter:
    """Letters per script ("LATIN", "HANGUL", "CJK", …), by the first word of each letter's Unicode name."""
    out: Counter = Counter()
    for ch in text:
        if ch.isalpha():
            out[unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]] += 1
    return out


def detect_language(text: str | None) -> str | None:
    """The language a title is written in, or None when it cannot be told (or there is no title)."""
    if not isinstance(text, str):  # None, or a missing value read back as NaN
        return None
    return _detect(text)


@lru_cache(maxsize=8192)  # a source repeats a video's title on each of its observations
def _detect(text: str) -> str | None:
    text = _GLUE.sub(" ", _URL.sub(" ", text))
    letters = scripts(text)
    total = sum(letters.values())
    if total < MIN_LETTERS:
        return None
    if letters["HIRAGANA"] + letters["KATAKANA"] >= 2:  # kana: Japanese, whatever Han it also has
        return "ja"
    script, count = letters.most_common(1)[0]
    if script in SCRIPT_LANGUAGE and count >= total / 2:
        return SCRIPT_LANGUAGE[script]
    lang, _ = _identifier().classify(text)
    return None if lang == "und" else lang


def language_of(title: str | None, declared: object = None) -> str | None:
    """The source's language when it gives one, else the title's detected language."""
    return normalise_language(declared) or detect_language(title)
