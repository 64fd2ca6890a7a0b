"""Benchmarks of redis-pydantic against raw redis-py sending the same Redis commands.

Run ``python -m bench`` (``--help`` for options). See ``bench/run.py``.
"""
