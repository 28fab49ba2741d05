"""The REST API of the segmentation app: runs, client metrics, work lists, rules, exports."""
