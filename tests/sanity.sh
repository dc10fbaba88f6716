#!/usr/bin/env bash
# ansible-test needs the collection under .../ansible_collections/<ns>/<name>; a symlink
# does not do (it resolves the working directory), so sanity runs on a copy of the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
root=.build/sanity/ansible_collections/dtr/cache
rm -rf .build/sanity
mkdir -p "$root"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$root"
cd "$root"
exec ansible-test sanity --venv --requirements --python 3.11 "$@"
