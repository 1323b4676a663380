import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Property tests (tests/test_properties.py) run a bounded, reproducible number of examples by
# default: the "ci" profile. HYPOTHESIS_PROFILE=dev explores more (and randomly) when hunting.
settings.register_profile(
    "ci", max_examples=20, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile(
    "dev", max_examples=200, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
