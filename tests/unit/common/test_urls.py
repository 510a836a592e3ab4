import pytest

from decision_engine.common import urls


@pytest.mark.parametrize('url,shown', [
    ('redis://:pw@h:6379', 'redis://:***@h:6379'),
    ('rabbit://guest:pw@h:5672/', 'rabbit://guest:***@h:5672/'),
    ('http://u:p%40x@h:9/a?x=1', 'http://u:***@h:9/a?x=1'),
    ('redis://h:6379?password=pw&db=1', 'redis://h:6379?password=***&db=1'),
    ('etcd3+http://h:2379', 'etcd3+http://h:2379'),
    ('http://u@h/', 'http://u@h/'),
    # Cannot be parsed: masked as a whole.
    ('http://[::1', '***'),
    (None, None),
])
def test_without_password(url, shown):
    assert urls.without_password(url) == shown
