"""The pure pricing engine: plain Python, frozen dataclasses and Decimal. No Django, ORM, settings or I/O
(tests/pricing/test_engine_purity.py checks it)."""
