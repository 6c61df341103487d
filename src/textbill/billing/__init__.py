"""The billing engine: pure functions over the model; `as_of` is always passed in."""
