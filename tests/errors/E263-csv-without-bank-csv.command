import bank lista.csv
