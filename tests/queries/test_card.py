"""The score card says what the numbers say: built from each prediction, never fixed text."""

from miles.queries.card import channel_share, compact, group_words, likelihood, odds, round_views, score_card

LABEL = {"age_hours": 168, "viral_fraction": 0.2, "cohort": "platform_week", "target": "velocity"}


def test_the_headline_compares_with_the_base_rate_the_label_fixes():
    low = score_card(0.09, (0.05, 0.15), 1.48, (0.81, 2.39), LABEL, 52_000, "known")
    assert low["headline"] == "9% — a typical video here breaks out 20% of the time: about half as likely"
    assert low["odds_multiple"] == 0.45 and low["followers"] == "52k" and "52k followers" in low["channel"]
    high = score_card(0.46, (0.3, 0.6), 2.0, None, {**LABEL, "viral_fraction": 0.1}, None, "blank")
    assert high["headline"].endswith("breaks out 10% of the time: about 4.6 times as likely")
    assert "no channel was given" in high["channel"] and "views_range" not in high


def test_expected_views_are_the_velocity_at_the_label_age_with_its_range():
    card = score_card(0.09, None, 1.48, (0.81, 2.39), LABEL, None, "unknown")
    assert card["views_expected"] == round(10 ** 1.48 * 168)
    assert card["views"] == "about 5,100 views by day 7 (1,100–41,000)"
    assert "top 20% of its week on its platform by views per hour at 7 days" in card["break_out_means"]
    assert card["sure"] == "no range could be given for this estimate" and "no videos here" in card["channel"]


def test_how_sure_follows_the_width_of_the_range():
    narrow = score_card(0.2, (0.17, 0.23), 1.0, None, LABEL, None, "known")["sure"]
    wide = score_card(0.2, (0.01, 0.7), 1.0, None, LABEL, None, "known")["sure"]
    assert narrow.startswith("fairly sure") and wide.startswith("unsure") and "1% to 70%" in wide


def test_numbers_in_words():
    assert [compact(n) for n in (950, 52_000, 1_234_567, 12_600)] == ["950", "52k", "1.2M", "13k"]
    assert [round_views(n) for n in (7, 1987, 41_234)] == ["7", "2,000", "41,000"]
    assert likelihood(1.0) == "about as likely as a typical video" and likelihood(0.25) == "less than a third as likely"


def test_effects_are_multiples_of_the_odds_in_a_creators_groups():
    assert odds(-0.4) == "×0.67 the odds" and odds(0.0) == "×1.00 the odds"
    assert group_words("creator") == "your channel's track record" and group_words("title embedding") == "the title's wording"
    assert channel_share([("creator", -1.2), ("title embedding", 0.3), ("timing", 0.1)]).startswith(
        "your channel's track record sets most of this score (75% of what moves it)")
    assert channel_share([("creator", 0.2), ("title embedding", 0.3)]) is None


def test_a_bar_row_keeps_its_label_bar_and_number_apart():
    """Label, bar and number are separate cells of a row (the browser test measures them); the bar runs left
    for a lowering effect and the longest bar spans half the track."""
    import re

    from miles.serve.charts import signed_bars

    html = signed_bars([("your channel's track record", -0.46), ("the title's wording", 0.1)])
    rows = re.findall(r'<span class="bar-label">([^<]*)</span>.*?<rect x="([\d.]+)" y="2" width="([\d.]+)"'
                      r'.*?<span class="bar-value (up|down)">([^<]*)</span>', html)
    assert [(r[0], r[3], r[4]) for r in rows] == [("your channel&#x27;s track record", "down", "×0.63"),
                                                  ("the title&#x27;s wording", "up", "×1.11")]
    (_, x0, w0, _, _), (_, x1, w1, _, _) = rows
    assert float(x0) + float(w0) == 50 and float(w0) == 50 and float(x1) == 50 and 0 < float(w1) < 50
    assert "<text" not in html  # no text drawn inside the SVG, where a phone would shrink it


def test_the_card_says_what_a_blank_or_unknown_channel_does(demo_store):
    """With no channel, or one the store has never seen, the card says it is scored as a channel with no track
    record and what that does to the odds, as the head's own channel effect for this draft."""
    import math

    from miles.queries.predict import predict

    for creator, words in ((None, "no channel was given"), ("nobody_at_all", "this channel has no videos here")):
        out = predict(demo_store, title="I tried the viral ramen hack so you don't have to", duration=35.0,
                      creator_id=creator, k=0)
        effect = next(f["effect"] for f in out["factors"] if f["kind"] == "group" and f["name"] == "creator")
        card = out["card"]
        assert card["channel"].startswith(words) and f"moves the odds ×{math.exp(effect):.2f}" in card["channel"]
        assert card["channel_odds"] == round(math.exp(effect), 2)
