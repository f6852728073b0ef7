"""Which languages each text encoder was trained on, and the sentence that says when a store's titles (or a
draft's) are mostly in others.

    store_language_note(["ko", "ko", "en", None], "minilm")
    # "67% of the titles whose language is known are in languages the title model was not trained on
    #  (mostly Korean 67%): it was trained on English"
    draft_language_note("ko", "minilm")      # the same, for one title, in a creator's words

A language is a video's stored ``language`` (``miles.store.language``: the source's, else detected). An
encoder not listed here (a local model folder) has no known languages, and nothing is said.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

ENGLISH = frozenset({"en"})
# XLM-RoBERTa's 100 CC-100 languages (ISO 639-1 where there is a code), which multilingual-e5 was trained on.
XLMR = frozenset(
    "af am ar as az be bg bn br bs ca cs cy da de el en eo es et eu fa fi fr fy ga gd gl gu ha he hi hr hu hy id is "
    "it ja jv ka kk km kn ko ku ky la lo lt lv mg mk ml mn mr ms my ne nl no om or pa pl ps pt ro ru sa sd si sk sl "
    "so sq sr su sv sw ta te th tl tr ug uk ur uz vi xh yi zh".split())
TRAINED: dict[str, frozenset[str]] = {"minilm": ENGLISH, "minilm_int8": ENGLISH, "bert-base-uncased": ENGLISH,
                                      "multilingual": XLMR}
NAMES = {"ar": "Arabic", "bn": "Bengali", "de": "German", "en": "English", "es": "Spanish", "fa": "Persian",
         "fr": "French", "hi": "Hindi", "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean",
         "ms": "Malay", "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ru": "Russian", "sv": "Swedish",
         "ta": "Tamil", "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu",
         "vi": "Vietnamese", "zh": "Chinese"}
MOSTLY = 0.5  # a note when more than this share of titles with a known language lie outside the encoder's


def title_languages(videos) -> list[str | None]:
    """Each video's language: its stored one, else detected from its title (stores ingested before languages
    were detected). ``videos``: a frame with ``title`` and, where stored, ``language``."""
    from miles.store.language import language_of

    declared = videos["language"] if "language" in videos else [None] * len(videos)
    return [language_of(t, lang) for t, lang in zip(videos["title"], declared)]


def language_shares(languages: list[str | None], top: int = 5) -> dict[str, float]:
    """The most common languages and their shares of all titles ("unknown": none could be told)."""
    n = max(len(languages), 1)
    counts = Counter(lang or "unknown" for lang in languages).most_common()
    shown = counts[:top] + ([("other", sum(c for _, c in counts[top:]))] if len(counts) > top else [])
    return {lang: round(c / n, 3) for lang, c in shown}


def language_name(code: str) -> str:
    return NAMES.get(code, code)


def _trained_words(trained: frozenset[str]) -> str:
    return "English" if trained == ENGLISH else f"{len(trained)} languages"


def outside_share(languages: Iterable[str | None], encoder: str) -> tuple[float, list[tuple[str, int]], int]:
    """(share of the known languages the encoder was not trained on, those languages by count, how many
    titles have a known language); (0, [], n) for an encoder without a known list."""
    known = [lang for lang in languages if lang]
    trained = TRAINED.get(encoder)
    if trained is None or not known:
        return 0.0, [], len(known)
    outside = Counter(lang for lang in known if lang not in trained)
    return sum(outside.values()) / len(known), outside.most_common(), len(known)


def store_language_note(languages: Iterable[str | None], encoder: str) -> str | None:
    """A sentence when most titles are in languages ``encoder`` was not trained on, else None."""
    share, outside, n = outside_share(languages, encoder)
    if share <= MOSTLY:
        return None
    top = ", ".join(f"{language_name(code)} {count / n:.0%}" for code, count in outside[:3] if count >= 0.05 * n)
    return (f"{share:.0%} of the titles whose language is known are in languages the title model was not trained "
            f"on (mostly {top}): it was trained on {_trained_words(TRAINED[encoder])}")


def draft_language_note(language: str | None, encoder: str) -> str | None:
    """For one title: a creator's sentence when it is in a language the title model was not trained on."""
    trained = TRAINED.get(encoder)
    if not language or trained is None or language in trained:
        return None
    return (f"your title looks {language_name(language)}, and the model that reads titles here was trained on "
            f"{_trained_words(trained)} titles, so it may misread what yours says")
