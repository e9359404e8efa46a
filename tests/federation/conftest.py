"""Fixtures of the federation tests."""

from tests.intel.test_misp_feed import served  # a directory served over HTTP on 127.0.0.1

__all__ = ["served"]
