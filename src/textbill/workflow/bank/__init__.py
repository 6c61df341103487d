"""Bank reconciliation (`textbill import bank`): statement readers, matching, and the payments written."""
