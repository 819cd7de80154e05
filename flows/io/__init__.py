"""Adapters at the two ends of the pipeline: raw files in, Parquet partitions out."""
