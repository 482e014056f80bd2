"""Transform: normalization rules, deduplication and latest-wins, all as SQL run by an Engine."""
