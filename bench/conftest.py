from tests.conftest import *  # noqa: F401,F403  (same fixtures as the tests)
