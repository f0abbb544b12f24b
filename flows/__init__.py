"""Prefect flows for thresher. Flows only wire library calls; all logic is in ``thresher``."""
