"""Django's PostgreSQL backend, logging prepared statements readably (``jingpinke/prepared.py``)."""
