"""Power drivers: stevedore plugins in ``decision_engine.power_drivers``."""
