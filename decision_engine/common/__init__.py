"""Low-level pieces every layer may use: states and small helpers."""
