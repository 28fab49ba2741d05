"""The metric engine: SQL aggregation of shipment lines, pandas for derived metrics.

Nothing here loops over shipment lines or queries per client. A run groups
the lines by document once into a temporary table (``documents``); with a
set of client ids the same statements join a temporary table of the ids.
Entry point: ``segmentation.services.metrics_recompute``.
"""
