import numpy as np
import pandas as pd
import pytest

from miles.heads.openings import learn_openings, opening_of
from tests.conftest import shared


def test_opening_of_reads_words_of_any_script():
    assert opening_of("Wait for it... ramen hack 🍝") == ("wait", "wait for")
    assert opening_of("🔥🔥🔥") == ()
    assert opening_of("주식 단타야수의 세계") == ("주식", "주식 단타야수의")
    assert opening_of("POV: you") == ("pov", "pov you")


def test_a_planted_opening_is_learned_and_chance_ones_are_not():
    rng = np.random.default_rng(0)
    n = 3000
    words = np.array(["my", "a", "the", "day", "trying", "some", "just", "pov"])
    first = rng.choice(words, n)
    titles = [f"{w} {rng.choice(words)} video {i}" for i, w in enumerate(first)]
    p = np.where(first == "pov", 0.5, 0.17)
    viral = (rng.random(n) < p).astype(int)
    learned = learn_openings(titles, viral)
    assert [o["opening"] for o in learned] == ["pov"]
    o = learned[0]
    assert o["ci_low"] > o["base_rate"] and o["rate"] == pytest.approx(viral[first == "pov"].mean(), abs=1e-4)
    assert learn_openings(titles, rng.permutation(viral)) == []  # labels unrelated to openings: nothing


@pytest.mark.shared_data
def test_openings_on_real_korean_titles():
    """On 20,639 real Korean Shorts titles (viral = top 20% by views), whatever is learned clears its bound."""
    df = pd.read_csv(shared("yt-shorts-kr-20k") / "youtube_shorts_data_CLEAN.csv")
    viral = (df["viewCount"] >= df["viewCount"].quantile(0.8)).astype(int).to_numpy()
    learned = learn_openings(df["title"].fillna("").tolist(), viral)
    assert all(o["ci_low"] > o["base_rate"] and o["n"] >= 30 for o in learned)
    assert len(learned) <= 10
