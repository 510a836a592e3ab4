"""Which instances a strategy may move, as Nova's compute API allows."""

import pytest

from decision_engine.strategies import context


class _Inst:
    def __init__(self, state):
        self.state = state


@pytest.mark.parametrize('state, kind', [
    ('ACTIVE', 'live'), ('paused', 'live'),
    ('SHUTOFF', 'cold'), ('stopped', 'cold'),
    # Nova refuses both moves for these (check_instance_state).
    ('suspended', None), ('error', None), ('shelved_offloaded', None),
    ('building', None), (None, None)])
def test_migration_type_follows_nova(state, kind):
    assert context.migration_type(_Inst(state)) == kind
