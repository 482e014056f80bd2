"""Validation: dataset contracts compiled to SQL predicates, reason codes and quarantine."""
