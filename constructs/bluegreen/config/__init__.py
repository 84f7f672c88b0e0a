"""Typed, validated platform configuration."""
