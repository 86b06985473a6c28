"""Poky: run slow data jobs on demand, one container per job, with no permanent infrastructure.

Kept free of imports so the container's runner can use the shared core without loading Flask.
"""

__version__ = "0.1.0"
