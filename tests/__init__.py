import os

#: the concurrency backend the tests run on; see tests/conftest.py.
BACKEND = os.environ.get('DECISION_ENGINE_TEST_BACKEND', 'threading')
