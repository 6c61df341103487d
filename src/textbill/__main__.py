from textbill.cli.main import run

run()
