"""Collect: find videos with yt-dlp and watch them grow, one snapshot per age on a ladder.

    discover(store, ["https://www.youtube.com/@handle/shorts"])   # → the tracked table
    track(store, Ladder.parse())                                    # → snapshots of the videos that are due
    simulate(store, videos=200, days=30)                            # the loop offline, on a simulated platform

Fetched videos go through ``miles.sources`` (the canonical mapping of a yt-dlp info dict, ingest's
checks and rejects); nothing here maps a field by itself.
"""
