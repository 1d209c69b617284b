"""Discord features, one extension per module; each ends with `async def setup(bot)`."""
