import sys

from harness.sweep.cli import main

sys.exit(main())
