"""Discord-facing helpers shared by the cogs: the command tree, replies, checks, language."""
