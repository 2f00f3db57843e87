"""The sync engine: discovery, three-way merge, outbox, runner, scheduler. Plain asyncio, no Qt."""
