"""SYNTHETIC demo data: a deterministic, offline shorts dataset with a known generative story.

Nothing here is real. The generator exists so that ``miles demo`` runs everywhere with no download and
so that tests can check that a model recovers a signal we planted. The story:

1. **Creators** (about one per 16 videos) each have a niche (cooking, gaming, fitness, ...), a follower
   count drawn log-normally (median ~20k, a long right tail) that grows slowly over the months, a hidden
   *skill* that nothing in the data states (so only a creator's own history reveals it), and a favourite
   hour to post.
2. **Videos** are published over six months. Each gets a title in the niche's words, with or without a
   *hook* ("Wait for it…", "POV:", "I tried … for 30 days", "Nobody talks about this"), hashtags and
   emoji; a duration of 7–60 s; and a thumbnail drawn and saved as a JPEG: a niche palette, brighter or
   duller, more or less contrast, sometimes a face, sometimes a bold text overlay. 2% have no thumbnail.
3. **Outcome** (``Outcome``): log10(views at 7 days) = 0.8·log10(followers) + skill (sd 0.25) + a content
   effect (hook strength, thumbnail brightness, face and text, contrast: the part an encoder can see) +
   timing (evening posts and short videos get a little more) + heavy-tailed noise (0.18 × Student t,
   3 d.f.). With these coefficients the creator terms (followers and skill) are the largest part.
4. **Snapshots**: the crawler visits a few minutes before and a few minutes after each mark (1 h, 6 h,
   24 h, 7 days), so early features have their numbers and the label at 7 days is bracketed. Views follow
   a saturating curve views(t) = V·(1 − exp(−t/τ)) with a per-video τ; a snapshot exists only if its time
   is before the collection date. Likes, comments and shares scale with views, a little more for better
   content.
5. **Leak canaries** (``canaries=True``, the default), planted for the leak tests to find. When a video
   takes off (top 20% of outcomes), its creator's followers triple for a week starting 30 hours after it
   was published, and its description gains " | trending" from then on. Both start after the last early
   moment (24 h) and the crawler's visit just after it, so the features of every moment, read as of its
   cutoff, never see a video's own canary; a follower count or description read after the cutoff (the
   7-day snapshots fall inside the jump) gives the outcome away. Followers belong to the creator: once a
   jump has happened, the creator's later videos see it, as they see any earlier observation.
   ``tests/sources/test_demo.py`` checks the timing; ``tests/heads/test_canaries.py`` that an honest
   ``pre_upload`` model gains nothing from the canaries while leaky joins do.

``hard=True`` (``miles demo --hard``) is a harder setting: more noise (0.35 × Student t), a weaker
creator effect (skill sd 0.12, 0.5·log10(followers), the intercept moved so that a creator with the median
follower count keeps the same expected views), content and timing effects unchanged. The same seed gives
the same creators, videos, titles, thumbnails and crawl times in both settings; only views and what
follows from them differ.

The data are synthetic: every effect in them is one of the coefficients above. A metric measured on them
says how well a model recovers this generator's story and nothing about real platforms or real videos.
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from miles.errors import MilesError
from miles.sources.drawn import thumbnail_image

log = logging.getLogger(__name__)

START = datetime(2026, 3, 2, tzinfo=timezone.utc)
DAYS = 180
COLLECTED = START + timedelta(days=DAYS + 2)  # the moment the (synthetic) crawler stopped
SNAPSHOT_HOURS = (1.0, 6.0, 24.0, 168.0)
JUMP = 3.0  # followers multiply by this for a while after a video takes off (a canary)
# The canaries start after the last early moment (24 h) and the crawler's visit just after it (<= 20 min),
# so no moment's honest features see a video's own canary; the jump lasts past the 7-day snapshots, so a
# follower count read after the cutoff (a leaky join) still finds it.
JUMP_AFTER_H = 30.0
JUMP_DAYS = 7.0

NICHES: dict[str, dict] = {
    "cooking": {"things": ["garlic butter pasta", "3-ingredient pancakes", "crispy tofu", "ramen hack", "street tacos",
                           "air fryer wings", "sourdough", "mango sticky rice"],
                "tags": ["cooking", "recipe", "foodtok", "easyrecipe", "homecooking"], "hue": (230, 120, 40),
                "shape": "circle", "emoji": ["🍝", "🔥", "😋"]},
    "gaming": {"things": ["speedrun", "boss fight", "ranked climb", "hidden easter egg", "1v5 clutch",
                          "minecraft build", "retro console", "no-hit run"],
               "tags": ["gaming", "gamer", "minecraft", "speedrun", "clutch"], "hue": (90, 40, 200),
               "shape": "rect", "emoji": ["🎮", "💀", "🏆"]},
    "fitness": {"things": ["10-minute ab workout", "pull-up progression", "leg day", "morning stretch",
                           "kettlebell flow", "home HIIT", "posture fix", "first marathon"],
                "tags": ["fitness", "gym", "workout", "health", "fitnesstips"], "hue": (30, 160, 90),
                "shape": "bar", "emoji": ["💪", "🏋️", "⚡"]},
    "comedy": {"things": ["office prank", "roommate", "mom's reaction", "group chat", "first date",
                          "customer service call", "dog vs cat", "grandpa tries slang"],
               "tags": ["comedy", "funny", "skit", "relatable", "lol"], "hue": (240, 200, 40),
               "shape": "circle", "emoji": ["😂", "🤣", "💀"]},
    "tech": {"things": ["phone camera trick", "budget gaming PC", "AI tool", "keyboard mod", "hidden iPhone setting",
                        "desk setup", "cable management", "laptop teardown"],
             "tags": ["tech", "gadgets", "techtok", "setup", "ai"], "hue": (40, 140, 230),
             "shape": "rect", "emoji": ["💻", "📱", "🤖"]},
    "beauty": {"things": ["5-minute makeup", "skincare routine", "glass skin", "winged liner", "curly hair routine",
                          "drugstore dupes", "nail art", "sunscreen test"],
               "tags": ["beauty", "makeup", "skincare", "grwm", "hair"], "hue": (235, 120, 170),
               "shape": "circle", "emoji": ["💄", "✨", "💅"]},
    "travel": {"things": ["Tokyo on $50", "hidden beach", "overnight train", "street food market", "Lisbon",
                          "mountain hut", "airport hack", "Iceland road trip"],
               "tags": ["travel", "wanderlust", "traveltok", "backpacking", "vacation"], "hue": (40, 190, 210),
               "shape": "bar", "emoji": ["✈️", "🌍", "🏝️"]},
    "pets": {"things": ["golden retriever", "rescue kitten", "parrot talking", "dog's first snow", "cat zoomies",
                        "hamster maze", "corgi bath", "puppy training"],
             "tags": ["pets", "dog", "cat", "cute", "dogsoftiktok"], "hue": (200, 150, 90),
             "shape": "circle", "emoji": ["🐶", "🐱", "❤️"]},
    "finance": {"things": ["budget", "index funds", "side hustle", "credit score", "saving $10k", "taxes",
                           "first paycheck", "rent vs buy"],
                "tags": ["money", "finance", "investing", "personalfinance", "budgeting"], "hue": (50, 170, 60),
                "shape": "bar", "emoji": ["💰", "📈", "💸"]},
    "diy": {"things": ["epoxy table", "shelf from pallets", "plant stand", "room makeover", "thrift flip",
                       "tiny house build", "LED sign", "garden bed"],
            "tags": ["diy", "woodworking", "homedecor", "crafts", "build"], "hue": (170, 110, 60),
            "shape": "rect", "emoji": ["🔨", "🪵", "🛠️"]},
}

# (template, hook strength). {x} is the niche's thing. Strength is log10 views added.
HOOKS: list[tuple[str, float]] = [
    ("Wait for it... {x}", 0.50),
    ("POV: you finally tried {x}", 0.40),
    ("I tried {x} for 30 days and this happened", 0.55),
    ("Nobody talks about this {x} secret", 0.50),
    ("You won't believe this {x}", 0.45),
    ("3 {x} mistakes you're making", 0.35),
    ("Watch till the end: {x}", 0.40),
    ("Stop doing {x} like this", 0.45),
]
# Plain titles as long as hooked ones, so that title length alone does not give the hook away.
PLAIN: list[tuple[str, float]] = [
    ("My {x} routine from this morning", 0.0),
    ("{x} vlog, part two of the series", -0.05),
    ("A quick {x} update for everyone", -0.05),
    ("Trying {x} again this weekend", 0.0),
    ("Some {x} footage from last week", -0.10),
    ("Day 12 of {x} with my friends", 0.0),
    ("Just {x}, nothing special today", -0.05),
]
OVERLAY_WORDS = ["WOW", "NO WAY", "30 DAYS", "SECRET", "DON'T", "EASY", "TRY THIS", "OMG"]


@dataclass(frozen=True)
class Outcome:
    """The coefficients of step 3 of the story: log10(views at 7 days) =
    follower_slope·log10(followers) + intercept + skill (sd ``skill_sd``) + content + timing + noise·t₃."""

    follower_slope: float = 0.8
    intercept: float = -0.45
    skill_sd: float = 0.25
    noise: float = 0.18


DEFAULT = Outcome()
# More noise and a weaker creator effect, content effects unchanged; the intercept keeps the median
# creator's (10^4.3 followers) typical views where they are in the default setting.
HARD = Outcome(follower_slope=0.5, intercept=-0.45 + (0.8 - 0.5) * 4.3, skill_sd=0.12, noise=0.35)


@dataclass
class DemoFiles:
    csv: Path
    thumbnails: Path
    videos: int
    rows: int


def generate(out_dir: str | Path, n_videos: int = 2000, seed: int = 0, progress: bool = False,
             canaries: bool = True, hard: bool = False) -> DemoFiles:
    """Write ``videos.csv`` (one row per observation) and ``thumbnails/`` under ``out_dir``.

    ``hard`` uses the ``HARD`` outcome coefficients; the same seed gives the same creators, videos, titles,
    thumbnails and crawl times either way, only the views (and what follows from them) differ."""
    from tqdm.auto import tqdm

    if n_videos < 1:
        raise MilesError(f"n_videos must be at least 1, got {n_videos}")
    story = HARD if hard else DEFAULT
    out = Path(out_dir)
    thumbs = out / "thumbnails"
    thumbs.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    crawl = np.random.default_rng([seed, 1])  # crawl times: their own stream, so the videos are the same
    niche_names = list(NICHES)
    n_creators = max(8, n_videos // 16)
    creators = []
    for c in range(n_creators):
        creators.append({
            "id": f"creator_{c:04d}",
            "niche": niche_names[int(rng.integers(len(niche_names)))],
            "log_followers": float(np.clip(rng.normal(4.3, 0.6), 2.0, 7.3)),
            "growth": float(rng.normal(0.002, 0.001)),  # per day, in natural-log followers
            "skill": float(rng.normal(0.0, story.skill_sd)),
            "hour": int(rng.integers(0, 24)),
            "face_rate": float(rng.uniform(0.1, 0.9)),
            "hook_rate": float(rng.uniform(0.2, 0.8)),
        })
    # Some creators post much more than others.
    activity = rng.lognormal(0.0, 0.8, n_creators)
    activity /= activity.sum()
    videos = []
    for i in tqdm(range(n_videos), desc="demo data", unit="video", disable=None if progress else True, leave=False):
        cr = creators[int(rng.choice(n_creators, p=activity))]
        niche = NICHES[cr["niche"]]
        day = float(rng.uniform(0, DAYS))
        hour = (cr["hour"] + int(rng.normal(0, 2.5))) % 24
        published = START + timedelta(days=math.floor(day), hours=hour, seconds=int(rng.integers(0, 3600)))
        thing, title, tags, hook = draft_text(rng, niche, cr["hook_rate"])
        bright = float(rng.beta(2, 2))
        contrast = float(rng.beta(2, 2))
        face = bool(rng.random() < cr["face_rate"])
        text = OVERLAY_WORDS[int(rng.integers(len(OVERLAY_WORDS)))] if rng.random() < 0.45 else None
        duration = float(np.round(rng.uniform(7, 60), 1))
        content = hook + 0.5 * (bright - 0.5) + 0.25 * face + 0.2 * (text is not None) + 0.2 * (contrast - 0.5)
        timing = 0.08 * (17 <= hour <= 21) - 0.002 * (duration - 30)
        log_f0 = cr["log_followers"] + cr["growth"] * day / math.log(10)
        log_v7d = (story.follower_slope * log_f0 + story.intercept + cr["skill"] + content + timing
                   + story.noise * float(rng.standard_t(3)))
        tau = float(np.exp(rng.normal(math.log(18), 0.5)))  # hours to ~63% of final views
        like_rate = float(np.clip(rng.normal(0.045 + 0.04 * content, 0.01), 0.005, 0.3))
        vid = f"demo_{i:06d}"
        thumb_name = ""
        if rng.random() >= 0.02:  # 2% of videos have no thumbnail file
            thumb_name = f"thumbnails/{vid}.jpg"
            (out / thumb_name).write_bytes(thumbnail_image(rng, niche, bright, contrast, face, text))
        videos.append({"vid": vid, "cr": cr, "day": day, "published": published, "title": title, "thing": thing,
                       "tags": tags, "duration": duration, "log_v7d": log_v7d, "tau": tau, "like_rate": like_rate,
                       "thumb": thumb_name})
    rows = _observations(videos, crawl, canaries)
    csv_path = out / "videos.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    log.info("demo data%s: %d videos, %d creators, %d observation rows in %s", " (hard)" if hard else "",
             n_videos, n_creators, len(rows), out)
    return DemoFiles(csv=csv_path, thumbnails=thumbs, videos=n_videos, rows=len(rows))


def _observations(videos: list[dict], crawl: np.random.Generator, canaries: bool) -> list[dict]:
    """One CSV row per crawl of each video: a few minutes before and after each mark."""
    took_off = np.quantile([v["log_v7d"] for v in videos], 0.8)
    jumps: dict[str, list[datetime]] = {}  # creator -> when their followers jumped
    for v in videos:
        if canaries and v["log_v7d"] >= took_off:
            jumps.setdefault(v["cr"]["id"], []).append(v["published"] + timedelta(hours=JUMP_AFTER_H))
    rows = []
    for v in videos:
        cr, published = v["cr"], v["published"]
        v_inf = 10 ** v["log_v7d"] / (1 - math.exp(-168 / v["tau"]))
        viral = canaries and v["log_v7d"] >= took_off
        for hrs in SNAPSHOT_HOURS:
            for offset in (-int(crawl.integers(0, 480)), int(crawl.integers(60, 1200))):
                observed = published + timedelta(hours=hrs, seconds=offset)
                if observed > COLLECTED:
                    continue
                t = (observed - published).total_seconds() / 3600
                views = int(v_inf * (1 - math.exp(-t / v["tau"])))
                jumped = sum(j <= observed < j + timedelta(days=JUMP_DAYS) for j in jumps.get(cr["id"], []))
                followers = int(10 ** (cr["log_followers"] + cr["growth"] * (v["day"] + t / 24) / math.log(10))
                                * JUMP ** jumped)
                trending = " | trending" if viral and t >= JUMP_AFTER_H else ""
                rows.append({
                    "video_id": v["vid"], "platform": "demo", "creator_id": cr["id"], "title": v["title"],
                    "description": f"{v['thing']} | {cr['niche']} | SYNTHETIC demo video{trending}",
                    "hashtags": " ".join(f"#{t}" for t in v["tags"]), "language": "en", "duration_s": v["duration"],
                    "published_at": published.isoformat(), "thumbnail": v["thumb"],
                    "observed_at": observed.isoformat(), "views": views,
                    "likes": int(views * v["like_rate"]), "comments": int(views * v["like_rate"] * 0.06),
                    "shares": int(views * v["like_rate"] * 0.12), "creator_followers": followers,
                })
    return rows


def draft_text(rng: np.random.Generator, niche: dict, hook_rate: float) -> tuple[str, str, list[str], float]:
    """(thing, title, hashtags, hook effect) of one synthetic video in ``niche``: a template, emoji, tags."""
    thing = niche["things"][int(rng.integers(len(niche["things"])))]
    template, hook = pick_title(rng, hook_rate)
    title = template.format(x=thing)
    title = title[0].upper() + title[1:]
    if rng.random() < 0.6:
        title += " " + "".join(rng.choice(niche["emoji"], size=int(rng.integers(1, 3))))
    tags = list(rng.choice(niche["tags"], size=int(rng.integers(0, 5)), replace=False))
    if rng.random() < 0.3:
        tags.append("fyp")
    return thing, title, tags, hook


def pick_title(rng: np.random.Generator, hook_rate: float) -> tuple[str, float]:
    pool = HOOKS if rng.random() < hook_rate else PLAIN
    return pool[int(rng.integers(len(pool)))]
