#!/usr/bin/env bash
# ansible-test sanity, run --local in a virtualenv of its own: ansible-test's --venv and
# --requirements modes fetch a pip installer from a host these machines cannot reach, so the
# sanity requirements that ansible-test pins are installed here with plain pip instead.
# ansible-test also needs the collection under .../ansible_collections/<ns>/<name>; a symlink
# does not do (it resolves the working directory), so sanity runs on a copy of the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
core=$(.venv/bin/python -c 'import ansible.release; print(ansible.release.__version__)')
venv=${XDG_CACHE_HOME:-$HOME/.cache}/dtr-cache/sanity-ansible-core-$core
if [ ! -e "$venv/.installed" ]; then
    echo "sanity: installing ansible-core $core and its sanity requirements into $venv"
    rm -rf "$venv"
    python3.11 -m venv "$venv"
    reqs=$(.venv/bin/python -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_data", "requirements"))')
    requirements=()
    for file in "$reqs"/sanity.*.txt; do requirements+=(-r "$file"); done
    "$venv/bin/pip" install --quiet "ansible-core==$core" "${requirements[@]}"
    touch "$venv/.installed"
fi
# The import and runtime-metadata tests still make virtualenvs with ansible-test's pip
# bootstrap script; put the stand-in where ansible-test caches the script it would download.
pip_version=$(grep -ho "pip='[0-9.]*'" "$venv"/lib/python3.11/site-packages/ansible_test/_internal/python_requirements.py | head -1 | tr -dc '0-9.')
bootstrap=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$bootstrap")"
cmp -s tests/tools/get_pip.py "$bootstrap" || cp tests/tools/get_pip.py "$bootstrap"

root=.build/sanity/ansible_collections/dtr/cache
rm -rf .build/sanity
mkdir -p "$root"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$root"
# certificate_pipe and k8s_apply import community.crypto's and kubernetes.core's module_utils; ansible-test
# finds them next to this collection.
site=$(.venv/bin/python -c 'import ansible, os; print(os.path.dirname(os.path.dirname(ansible.__file__)))')
mkdir -p .build/sanity/ansible_collections/community
cp -r "$site/ansible_collections/community/crypto" .build/sanity/ansible_collections/community/
mkdir -p .build/sanity/ansible_collections/kubernetes
cp -r "$site/ansible_collections/kubernetes/core" .build/sanity/ansible_collections/kubernetes/
cd "$root"
# ansible-test takes its file list from git.
git init --quiet && git add --all
exec "$venv/bin/ansible-test" sanity --local --python 3.11 "$@"
