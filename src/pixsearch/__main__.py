from pixsearch.cli.main import cli

cli()
