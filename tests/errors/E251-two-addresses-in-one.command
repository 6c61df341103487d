remind --as-of 2026-03-01
