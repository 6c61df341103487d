import bank statement.xml --dry-run
