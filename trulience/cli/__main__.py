"""`python -m trulience.cli`: the same command line as the `trulience` script."""

from trulience.cli import main

main()
