"""Market intelligence in: fetchers (one per input), ingest (a fetch as a recorded unit), the
beat schedule, and `snapshots`, the one owner of the snapshot cache (SPEC §2)."""
