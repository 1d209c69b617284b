"""Message catalog entries, one module per feature area (merged by bot.texts.messages())."""
