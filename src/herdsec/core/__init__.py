"""Shared kernel: settings, database, errors, i18n, clock, pagination.

Import the submodules directly (``herdsec.core.db``); this package imports nothing heavy so that the
scanner can use ``herdsec.core.errors`` and ``herdsec.core.i18n`` without the server's dependencies.
"""
