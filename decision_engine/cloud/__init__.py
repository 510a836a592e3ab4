"""Connections to the cloud the engine models (openstacksdk)."""
