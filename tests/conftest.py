import os

import numpy as np
import pytest


def pytest_collection_modifyitems(config, items):
    if os.environ.get("MODELPRIVACY_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="paper-scale run; set MODELPRIVACY_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
