import toggl toggl.csv --dry-run
