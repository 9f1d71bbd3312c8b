"""The CSV import pipeline behind `analytics.services.import_batches` (see pipeline.py for the stages)."""
