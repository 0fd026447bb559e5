"""Shared building blocks that are not a feature: database types, enums, time, countries."""
