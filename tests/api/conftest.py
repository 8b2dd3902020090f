from tests.support.stats_fixtures import *  # noqa: F403 - the statistics API fixtures
