"""Deterministic synthetic sources at any scale, each with an independent answer key."""

from campuslake.synth.alumni import GenerationManifest, generate_alumni

__all__ = ["GenerationManifest", "generate_alumni"]
