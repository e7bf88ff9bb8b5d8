"""The search page served at /."""
