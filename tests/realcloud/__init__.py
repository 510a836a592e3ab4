"""The engine against a real Keystone, Placement and Nova (conftest.py)."""
