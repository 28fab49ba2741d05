"""The metric engine: SQL aggregation of shipment lines, pandas for derived metrics.

Nothing here loops over shipment lines or queries per client; with a set of
client ids the same statements run over those clients in ``IN`` chunks.
Entry point: ``segmentation.services.metrics_recompute``.
"""
