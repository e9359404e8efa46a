"""Scanner benchmark (issue #6): ``herdsec scan`` against ``LC_ALL=C grep -F -f`` on the same generated logs."""

from benchmarks.scan.run import run

__all__ = ["run"]
