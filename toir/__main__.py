"""`python -m toir` runs the toir command."""

from toir.cli import main

main()
