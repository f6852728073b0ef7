"""A video's language: the source's when given (normalised), else detected from the title by script or by the
packaged detector, none when nothing tells; stored by ingest; and the notes that say when most titles lie
outside what the text encoder was trained on."""

import pandas as pd
import pytest

from miles.embed.languages import draft_language_note, language_shares, store_language_note, title_languages
from miles.store.language import detect_language, language_of, normalise_language

TITLES = {
    "ko": ["라면 꿀팁 실험해봤습니다", "오늘의 브이로그 #일상", "주식 단타야수의 세계에서 년간 생존한 비법"],
    "ja": ["ラーメンの裏技を試してみた", "猫が可愛すぎる件について", "今日の晩ご飯は何にしよう"],
    "zh": ["我试了网上爆火的泡面做法", "小蛋糕致上百人食物中毒？为什么", "这个猫太可爱了吧"],
    "hi": ["मैंने वायरल रेमन हैक आज़माया", "आज मैं आपको बताऊंगा कि घर पर खाना कैसे बनाते हैं"],
    "th": ["วิธีทำก๋วยเตี๋ยวง่ายๆ ที่บ้าน"],
    "ru": ["Как приготовить рамен за пять минут дома"],
    "es": ["Receta fácil de pasta en cinco minutos para la cena", "Probé el truco viral del ramen y esto pasó"],
    "pt": ["Como fazer bolo de chocolate fofinho em casa", "Testei o truque viral do miojo e olha no que deu"],
    "en": ["Wait for it... the ramen hack everyone is talking about", "I tried the viral ramen hack #food"],
}


@pytest.mark.parametrize("lang", sorted(TITLES))
def test_titles_are_told_by_their_language(lang):
    assert [detect_language(t) for t in TITLES[lang]] == [lang] * len(TITLES[lang])


@pytest.mark.parametrize("title", ["🔥🔥🔥", "123 456", "", None, float("nan"), "#fyp", "https://example.com/watch?v=abc"])
def test_nothing_to_tell_a_language_by_is_no_language(title):
    assert detect_language(title) is None


def test_a_tag_list_reads_as_words():
    assert detect_language("Woodworking,Craft,Ideas,Wood,Lamp,woodworkingforbeginners") == "en"


def test_the_sources_language_wins_and_is_normalised():
    assert language_of("Wait for it...", "pt-BR") == "pt"
    assert language_of("라면 꿀팁 실험해봤습니다", "zh-Hans") == "zh"
    assert [normalise_language(x) for x in ("EN", "und", "un", "zxx", "", None, 3, "en_US")] == \
        ["en", None, None, None, None, None, None, "en"]
    assert language_of("라면 꿀팁 실험해봤습니다", "un") == "ko"  # an unknown tag: detected instead


def test_ingest_stores_the_sources_language_else_the_detected_one(tmp_path):
    from miles.sources import ingest
    from miles.store import Store

    csv = tmp_path / "v.csv"
    pd.DataFrame({"video_id": ["a", "b", "c", "d"], "title": ["Receta fácil", "라면 꿀팁 실험해봤습니다", "🔥🔥", "Hello"],
                  "language": ["es", None, None, "fr"], "views": [1, 2, 3, 4]}).to_csv(csv, index=False)
    store = Store.open(tmp_path / "s")
    ingest([csv], store, observed_at="2026-01-01T00:00:00Z", progress=False)
    got = {r["video_id"]: r["language"] for r in store.read("videos", columns=["video_id", "language"]).to_pylist()}
    assert got == {"a": "es", "b": "ko", "c": None, "d": "fr"}  # the source's "fr" is kept, even on "Hello"


def test_a_store_mostly_outside_the_encoders_languages_is_said_so():
    langs = ["ko"] * 6 + ["en"] * 3 + [None] * 5
    note = store_language_note(langs, "minilm")
    assert note.startswith("67% of the titles whose language is known") and "(mostly Korean 67%)" in note
    assert "English" in note
    assert store_language_note(langs, "multilingual") is None  # Korean is among its languages
    assert store_language_note(["ko"] * 5 + ["en"] * 5, "minilm") is None  # half is not most
    assert store_language_note(langs, "my-local-model") is None  # languages unknown: nothing said
    assert language_shares(langs) == {"ko": 0.429, "unknown": 0.357, "en": 0.214}


def test_a_drafts_language_is_said_in_a_creators_words():
    note = draft_language_note("ja", "minilm")
    assert note.startswith("your title looks Japanese") and "English" in note
    assert "minilm" not in note and "encoder" not in note
    assert draft_language_note("en", "minilm") is None and draft_language_note("ja", "multilingual") is None
    assert draft_language_note(None, "minilm") is None


def test_stored_languages_are_used_and_missing_ones_detected():
    videos = pd.DataFrame({"title": ["Hello there my friends", "라면 꿀팁 실험해봤습니다"], "language": ["de", None]})
    assert title_languages(videos) == ["de", "ko"]


def test_store_info_says_the_languages_and_when_the_text_encoder_misses_most(tmp_path, capsys):
    from miles.cli import main
    from miles.embed.job import EmbedConfig, embed
    from miles.sources import ingest
    from miles.store import Store

    titles = TITLES["ko"] * 3 + TITLES["ja"] + TITLES["en"]
    csv = tmp_path / "v.csv"
    pd.DataFrame({"video_id": [f"v{i}" for i in range(len(titles))], "title": titles,
                  "views": range(len(titles))}).to_csv(csv, index=False)
    store = Store.open(tmp_path / "s")
    ingest([csv], store, observed_at="2026-01-01T00:00:00Z", progress=False)
    embed(store, EmbedConfig(modalities=("text",), progress=False))
    assert main(["store", "info", "--store", str(store.path)]) == 0
    out = capsys.readouterr().out
    assert "languages of titles: Korean 64% · Japanese 21% · English 14%" in out
    assert ("note: emb_text_minilm: 86% of the titles whose language is known are in languages the title model was "
            "not trained on (mostly Korean 64%, Japanese 21%): it was trained on English") in out
