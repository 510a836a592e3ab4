"""Every python example of the concurrency guide runs as written."""

import os
import re

import pytest

GUIDE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'doc',
                     'source', 'contributor', 'concurrency.rst')


def _examples():
    with open(GUIDE) as f:
        text = f.read()
    blocks = re.findall(r'\.\. code-block:: python\n\n((?:    .*\n|\n)+)',
                        text)
    return [re.sub(r'^    ', '', block, flags=re.M) for block in blocks]


def test_guide_has_examples():
    assert len(_examples()) >= 5


@pytest.mark.parametrize('index', range(len(_examples())))
def test_example_runs(index):
    exec(compile(_examples()[index], 'concurrency.rst[%d]' % index, 'exec'),
         {})
