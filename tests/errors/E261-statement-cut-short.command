import bank statement.xml
