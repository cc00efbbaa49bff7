"""PyInstaller entry for the `foretype` command (console): the same command line as the pip install."""
import sys

from foretype.app.cli import main

sys.exit(main())
