"""Stand-in for ansible-test's pip bootstrap script, which it downloads from a host these
machines cannot reach. tests/sanity.sh puts it where ansible-test caches that script; it
installs pip with ensurepip, then the packages asked for from the usual package index."""

import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
packages = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + packages)
