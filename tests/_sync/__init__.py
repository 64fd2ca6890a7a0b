# This file is generated from tests/_async/__init__.py by setup_unasync.py. Do not edit it by hand.
