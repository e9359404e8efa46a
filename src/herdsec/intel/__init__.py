"""Threat sharing: the STIX 2.1 store, indicators, sightings, correlation, lookup."""
