"""The analytics pages: Overview and Performance & Trends (`sales.py`), Cohorts and Revenue change
(`insights.py`), Imports (`imports.py`) and the column-mapping editor (`mappings.py`)."""
