"""workflow: commands that change the ledger or talk to the world (issue, clock, import, mail, diff)."""
