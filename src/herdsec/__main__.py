from herdsec.cli.main import run

run()
