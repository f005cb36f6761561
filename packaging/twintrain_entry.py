"""PyInstaller entry script: the frozen `twintrain` executable (GUI, CLI, self-test and workers)."""

import multiprocessing
import sys

from gui.launch import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless; the app itself starts workers with subprocess
    sys.exit(main())
