"""engine: invoices, credits, receivables, aging, budgets, statements, reminders, schedules, fx.

Pure functions over the model with frozen results; the day (`as_of`) is always passed in.
"""
