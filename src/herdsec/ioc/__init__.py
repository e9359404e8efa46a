"""Indicators of compromise as values: types, normalisation, refanging, free-text extraction, STIX patterns,
warninglists.

Pure and light: no database, no web framework. The hub (``herdsec.intel``) and the stand-alone scanner
(``herdsec.scan``) both build on it.
"""
