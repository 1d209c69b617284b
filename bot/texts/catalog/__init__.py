"""Message catalog entries, one module per feature area (see bot/messages.py)."""
