"""Audits: what they are, how they run, and how continuous ones recur."""
