"""Pytest plugins of Baton's test suite (registered through ``pytest_plugins`` in ``tests/conftest.py``)."""
