"""The handwrite drawing app (PyQt6). Uses only handwrite's public API."""
