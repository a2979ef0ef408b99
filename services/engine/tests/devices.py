"""The device the engine tests run on: SLUICE_TEST_DEVICE (cpu by default; cuda on a GPU machine).

Read once at import: the whole suite runs on one device, chosen by the caller's environment.
"""

import os

TEST_DEVICE = os.environ.get("SLUICE_TEST_DEVICE", "cpu")
