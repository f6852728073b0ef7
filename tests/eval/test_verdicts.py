"""The verdicts are built from the run's numbers: small hand-built evaluations, each sentence checked against
them (a gain's interval holding zero, a clear lead, the served head not best, the creator's track record
ahead on new creators, Brier's direction, a run that recorded no paired intervals)."""

from miles.eval.verdicts import direction, paired, split_sentences, verdicts

FULL = "metadata+text+image"


def rec(split, head, features, metric, value, lo, hi, moment="pre_upload"):
    return {"moment": moment, "split": split, "head": head, "features": features, "metric": metric, "value": value,
            "ci_low": lo, "ci_high": hi}


def gain(split, head, features, versus, value, lo, hi, metric="auroc", moment="pre_upload"):
    return {"moment": moment, "split": split, "head": head, "features": features, "versus": versus,
            "metric": metric, "gain": value, "ci_low": lo, "ci_high": hi}


def said(records, gains, split="time", served="lightgbm") -> str:
    return " ".join(split_sentences(records, gains, "pre_upload", split, served))


def three_heads(split="time", mlp=0.899, lgb=0.862, prior=0.800):
    return [rec(split, "mlp", FULL, "auroc", mlp, mlp - 0.03, mlp + 0.02),
            rec(split, "lightgbm", FULL, "auroc", lgb, lgb - 0.032, lgb + 0.028),
            rec(split, "creator_prior", "creator_prior", "auroc", prior, prior - 0.04, prior + 0.04)]


def test_a_gain_whose_interval_includes_zero_is_no_detectable_gain():
    records = three_heads() + [rec("time", "lightgbm", "metadata", "auroc", 0.856, 0.82, 0.89)]
    t = said(records, [gain("time", "lightgbm", FULL, "metadata", 0.006, -0.010, 0.022)])
    assert ("Adding the title and thumbnail to LightGBM's metadata: AUROC (higher is better) 0.856 → 0.862, no "
            "detectable gain (the improvement's interval, -0.010 to +0.022, includes zero).") in t
    assert "raised" not in t and "supports" not in t


def test_a_gain_clear_of_zero_reads_as_a_gain_with_its_numbers():
    records = three_heads() + [rec("time", "mlp", "metadata", "auroc", 0.850, 0.82, 0.88)]
    t = said(records, [gain("time", "mlp", FULL, "metadata", 0.049, 0.020, 0.080)])
    assert ("to the fusion MLP's metadata: AUROC (higher is better) 0.850 → 0.899, a gain the interval supports "
            "(improvement +0.049 (+0.020 to +0.080))") in t


def test_brier_lower_is_better():
    assert direction("brier") == "lower is better" and direction("velocity_mae") == "lower is better"
    assert direction("auroc") == "higher is better"
    records = three_heads() + [rec("time", "lightgbm", "metadata", "auroc", 0.856, 0.82, 0.89),
                               rec("time", "lightgbm", "metadata", "brier", 0.200, 0.18, 0.22),
                               rec("time", "lightgbm", FULL, "brier", 0.150, 0.13, 0.17)]
    gains = [gain("time", "lightgbm", FULL, "metadata", 0.006, -0.010, 0.022),
             gain("time", "lightgbm", FULL, "metadata", 0.050, 0.020, 0.080, metric="brier")]
    t = said(records, gains)
    assert "Brier score (lower is better) 0.200 → 0.150, a gain the interval supports (improvement +0.050" in t


def test_the_best_head_is_named_and_a_served_head_that_is_not_best_is_said():
    gains = [gain("time", "mlp", FULL, "lightgbm", 0.037, 0.012, 0.061)]
    t = said(three_heads(), gains)
    assert ("On videos published after the training period, the fusion MLP ranks best by AUROC (higher is better): "
            "0.899 (0.869–0.919); next comes LightGBM at 0.862; the fusion MLP is clearly ahead of LightGBM: its "
            "lead on the same videos, +0.037 (+0.012 to +0.061), leaves out zero.") in t
    assert "The served head, LightGBM, scores 0.862 (0.830–0.890)." in t


def test_a_lead_whose_paired_interval_holds_zero_is_not_clear():
    gains = [gain("creator", "mlp", FULL, "lightgbm", 0.037, -0.004, 0.070)]
    t = said(three_heads("creator"), gains, "creator")
    assert "On creators never seen in training, the fusion MLP ranks best" in t
    assert "no detectable gap between the fusion MLP and LightGBM: the lead of the fusion MLP on the same videos, " \
           "+0.037 (-0.004 to +0.070), includes zero" in t and "clearly" not in t


def test_the_served_head_when_it_is_best():
    gains = [gain("time", "mlp", FULL, "lightgbm", -0.050, -0.080, -0.020)]
    t = said(three_heads(mlp=0.812, lgb=0.862), gains)
    assert "LightGBM (the served head) ranks best by AUROC" in t
    assert "LightGBM is clearly ahead of the fusion MLP: its lead on the same videos, +0.050 (+0.020 to +0.080)" in t


def test_the_creators_track_record_beating_the_served_head_on_new_creators():
    records = three_heads("time_creator", mlp=0.880, lgb=0.812, prior=0.860)
    gains = [gain("time_creator", "lightgbm", FULL, "creator_prior", -0.048, -0.080, -0.015),
             gain("time_creator", "mlp", FULL, "creator_prior", 0.020, -0.010, 0.050),
             gain("time_creator", "mlp", FULL, "lightgbm", 0.068, 0.030, 0.100)]
    t = said(records, gains, "time_creator")
    assert t.startswith("On new creators' videos published after the training period, the fusion MLP ranks best")
    assert "The served head, LightGBM, scores 0.812 (0.780–0.840)" in t
    assert ("The creator's own track record alone scores 0.860 (0.820–0.900); the track record is clearly ahead of "
            "the served head: its lead on the same videos, +0.048 (+0.015 to +0.080), leaves out zero.") in t
    assert "No model beats the creator's own track record by a margin the paired interval supports" in t


def test_a_run_without_paired_intervals_says_so_and_judges_nothing():
    records = three_heads() + [rec("time", "lightgbm", "metadata", "auroc", 0.856, 0.82, 0.89)]
    t = said(records, [])
    assert "AUROC (higher is better) 0.856 → 0.862." in t and "next comes LightGBM at 0.862." in t
    assert "Whether the differences above are real is unknown" in t
    assert "detectable" not in t and "clearly" not in t and "supports" not in t


def test_a_difference_recorded_the_other_way_round_is_turned_round():
    g = paired([gain("time", "mlp", FULL, "lightgbm", 0.037, 0.012, 0.061)], "pre_upload", "time", "lightgbm", "mlp")
    assert (g["gain"], g["ci_low"], g["ci_high"]) == (-0.037, -0.061, -0.012)


def test_splits_come_held_out_first_and_random_last():
    records = three_heads("random") + three_heads("time_creator") + three_heads("time")
    assert [s for s, _ in verdicts(records, [], "pre_upload", "lightgbm")] == ["time", "time_creator", "random"]


def test_a_lead_is_told_from_the_side_that_is_ahead():
    gains = [gain("time", "lightgbm", FULL, "creator_prior", 0.062, 0.030, 0.090)]
    t = said(three_heads(), gains)
    assert ("The creator's own track record alone scores 0.800 (0.760–0.840); the served head is clearly ahead of "
            "the track record: its lead on the same videos, +0.062 (+0.030 to +0.090), leaves out zero.") in t


def _encoders(alt_lead, alt_over, main_over):
    label = "metadata+text@multilingual"
    return [gain("time", "lightgbm", label, "metadata+text@minilm", *alt_lead),
            gain("time", "lightgbm", label, "metadata", *alt_over),
            gain("time", "lightgbm", "metadata+text", "metadata", *main_over)]


def test_the_encoder_with_a_clear_paired_lead_is_the_one_to_deploy():
    from miles.eval.verdicts import encoder_choice

    t = " ".join(encoder_choice(_encoders((0.05, 0.02, 0.08), (0.09, 0.05, 0.13), (0.04, 0.0, 0.08)), "pre_upload",
                                "time"))
    assert t == ("Title encoders for LightGBM on metadata and title: AUROC gain over metadata alone, multilingual "
                 "+0.090 (+0.050 to +0.130), minilm +0.040 (+0.000 to +0.080); multilingual leads minilm on the "
                 "same videos by +0.050 (+0.020 to +0.080), clear of zero: deploy multilingual.")
    keep = " ".join(encoder_choice(_encoders((-0.05, -0.08, -0.02), (0.0, -0.03, 0.03), (0.05, 0.02, 0.08)),
                                   "pre_upload", "time"))
    assert "minilm leads multilingual on the same videos by +0.050 (+0.020 to +0.080), clear of zero: keep minilm" in keep
    unsure = " ".join(encoder_choice(_encoders((0.01, -0.02, 0.04), (0.05, 0.01, 0.09), (0.04, 0.0, 0.08)),
                                     "pre_upload", "time"))
    assert "no clear winner" in unsure and "deploy" not in unsure and "keep" not in unsure


def test_a_compared_encoder_is_never_taken_for_the_deployed_head():
    records = three_heads() + [rec("time", "lightgbm", "metadata+text+image@multilingual", "auroc", 0.95, 0.93, 0.97)]
    t = said(records, [])
    assert "0.950" not in t.split("Title encoders")[0] and "ranks best by AUROC (higher is better): 0.899" in t
