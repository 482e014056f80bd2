"""Serving: read-only SQL over curated tables and the answers to the alumni-outcome questions."""
