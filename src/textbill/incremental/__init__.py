"""incremental: the parse and check caches and the Workspace, the only state that outlives a call."""
