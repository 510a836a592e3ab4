"""The power driver fixtures (tests/fixtures/drivers.py)."""

from tests.fixtures.drivers import all_logs  # noqa: F401
from tests.fixtures.drivers import conf  # noqa: F401
from tests.fixtures.drivers import farm  # noqa: F401
from tests.fixtures.drivers import pool  # noqa: F401
from tests.fixtures.drivers import power_read  # noqa: F401
from tests.fixtures.drivers import tracker  # noqa: F401
