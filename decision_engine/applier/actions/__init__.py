"""The actions a plan is made of, as stevedore plugins (namespace
``decision_engine.actions``); see :mod:`.base` for the interface."""
