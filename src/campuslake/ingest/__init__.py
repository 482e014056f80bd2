"""Ingest: content-addressed landing, the batch ledger and source parsing."""
