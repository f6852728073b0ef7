"""Small source files with nasty rows, built in tests (no binary fixtures in the repository)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import jpeg_bytes
from tests.sources.test_images import png_header_only

HEADER = "video_id,channel_id,title,publish_time,observed_at,view_count,like_count,duration,thumbnail_path\n"
ROWS = [
    "v1,c1,Wait for it #fyp,2024-03-01T10:00:00Z,2024-03-02T10:00:00Z,1000,50,30,img/v1.jpg",  # good
    ",c1,no id,2024-03-01T10:00:00Z,2024-03-02T10:00:00Z,10,1,30,",  # missing id
    "v3,c1,bad date,yesterday,2024-03-02T10:00:00Z,10,1,30,",  # unparseable date
    "v4,c2,negative,2024-03-01T10:00:00Z,2024-03-02T10:00:00Z,-5,1,30,",  # negative count
    "v5,c2,text count,2024-03-01T10:00:00Z,2024-03-02T10:00:00Z,10,lots,30,",  # non-numeric count
    "v1,c1,Wait for it #fyp,2024-03-01T10:00:00Z,2024-03-02T10:00:00Z,1000,50,30,img/v1.jpg",  # duplicate
    "v7,c3,🔥🔥🔥,2024-03-01T10:00:00Z,2024-03-02T10:00:00Z,77,7,12,",  # emoji-only title: fine
    "v8,c3,corrupt thumb,2024-03-01T10:00:00Z,2024-03-02T10:00:00Z,5,0,9,img/v8.jpg",  # stored, no thumbnail
    "v9,c3,bomb thumb,2024-03-01T10:00:00Z,2024-03-02T10:00:00Z,5,0,9,img/v9.png",  # stored, no thumbnail
    "v10,c4,time travel,2024-03-05T10:00:00Z,2024-03-02T10:00:00Z,5,0,9,",  # published after observed
    "v11,c4,unix time,1709287200,2024-03-02T10:00:00Z,1.2K,3,0:45,",  # stored
    "v12,c4,too,many,fields,2024-03-01T10:00:00Z,2024-03-02T10:00:00Z,1,1,1,",  # wrong field count
]
STORED = {"v1", "v7", "v8", "v9", "v11"}
N_REJECTED = 7


def nasty_csv(folder: Path) -> Path:
    (folder / "img").mkdir(parents=True, exist_ok=True)
    (folder / "img" / "v1.jpg").write_bytes(jpeg_bytes())
    (folder / "img" / "v8.jpg").write_bytes(jpeg_bytes()[:100])
    (folder / "img" / "v9.png").write_bytes(png_header_only(60_000, 60_000))
    path = folder / "videos.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def nasty_jsonl(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"id": "t1", "authorMeta": {"id": "a1", "fans": 1200}, "text": "dance #fyp",
                    "createTime": 1709287200, "playCount": 5000, "diggCount": 300, "videoMeta": {"duration": 15}}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"id": "t4", "text": "no counts", "createTime": "2024-03-01T00:00:00Z"}),
        json.dumps({"id": "t5", "text": "bad count", "createTime": 1709287200, "playCount": "many"}),
    ]
    path = folder / "tiktok.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ytdlp_folder(folder: Path) -> Path:
    """Files shaped like ``yt-dlp --write-info-json --write-thumbnail --skip-download`` output."""
    folder.mkdir(parents=True, exist_ok=True)
    infos = [
        {"id": "dQw4w9WgXcQ", "title": "Never gonna #shorts", "fulltitle": "Never gonna #shorts",
         "description": "a song", "channel_id": "UCuAXFkgsw1L7xaCfnd5JJOw", "uploader": "Rick",
         "uploader_id": "@rick", "duration": 58, "duration_string": "58", "upload_date": "20240301",
         "timestamp": 1709287200, "view_count": 123456, "like_count": 5000, "comment_count": 300,
         "channel_follower_count": 4000000, "tags": ["music", "80s"], "epoch": 1709460000,
         "extractor": "youtube", "extractor_key": "Youtube", "webpage_url": "https://www.youtube.com/shorts/dQw4w9WgXcQ",
         "thumbnails": [{"url": "https://i.ytimg.com/vi/x/hq.jpg", "id": "0"}], "formats": [{"format_id": "18"}],
         "_type": "video"},
        {"id": "abc123", "title": "Second", "channel_id": "UC2", "duration": 12, "upload_date": "20240302",
         "view_count": 10, "epoch": 1709460000, "extractor_key": "Youtube"},
    ]
    for info in infos:
        stem = f"{info['title']} [{info['id']}]"
        (folder / f"{stem}.info.json").write_text(json.dumps(info), encoding="utf-8")
    (folder / "Never gonna #shorts [dQw4w9WgXcQ].webp").write_bytes(jpeg_bytes(fmt="WEBP"))
    (folder / "broken [zzz].info.json").write_text("{oops", encoding="utf-8")
    return folder


def smp_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)

    def write(name, rows):
        (folder / f"SMP-Video_anonymized_{name}_train.jsonl").write_text(
            "\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")

    write("posts", [
        {"pid": "POST1", "uid": "USER1", "post_content": "Woodworking,Craft", "post_location": "RO",
         "post_suggested_words": ["wood"], "post_text_language": "en", "video_path": "x.mp4",
         "post_time": "2023-07-29 18:21"},
        {"pid": "POST2", "uid": "USER2", "post_content": "falconry", "post_suggested_words": [],
         "post_text_language": "en", "post_time": "not a time"},
    ])
    write("videos", [{"vid": "V1", "pid": "POST1", "uid": "USER1", "video_duration": 63}])
    write("users", [{"uid": "USER1", "user_follower_count": 70200}])
    write("popularity", [{"pid": "POST1", "uid": "USER1", "popularity": 10.0}])
    return folder
