"""Miles: how likely a short video is to break out, why, and which similar videos did.

A precomputed-embedding feature store with lightweight heads. See README.md for the commands and
docs/ in the repository for the design. Subpackages, from the ground up: ``store``; ``sources``,
``embed``, ``heads``; ``eval``; ``queries``; ``serve``. Imports only run down that list.
"""

from __future__ import annotations

__version__ = "0.1.0"
