"""checks: validations, each a function from the model (and the books) to diagnostics."""
