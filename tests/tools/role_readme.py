"""Write roles/dtr_cache/README.md from meta/argument_specs.yml (--check: fail when stale)."""

import argparse
import pathlib
import re
import sys

import yaml

ROLE = pathlib.Path(__file__).resolve().parents[2] / "roles" / "dtr_cache"
HEADER = """# Role dtr.cache.dtr_cache

{description}

Generated from `meta/argument_specs.yml` by `tests/tools/role_readme.py`; edit that file, not this one.

| variable | type | default | description |
|---|---|---|---|
"""


def _cell(text):
    text = re.sub(r"\b[CVO]\(([^)]*)\)", r"`\1`", str(text))
    return text.replace("|", "\\|").replace("\n", " ")


def _default(spec):
    if "default" not in spec:
        return "required" if spec.get("required") else ""
    value = spec["default"]
    if value in ("", [], {}):
        return "`%s`" % (yaml.safe_dump(value, default_flow_style=True).strip())
    return "`%s`" % _cell(yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("...").strip())


def _description(spec):
    text = spec.get("description", "")
    return " ".join(text) if isinstance(text, list) else text


def render():
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
    lines = [HEADER.format(description=" ".join(spec["description"]))]
    for name, option in spec["options"].items():
        kind = option.get("type", "str")
        if kind == "list":
            kind = "list of %s" % option.get("elements", "str")
        lines.append("| `%s` | %s | %s | %s |\n" % (name, kind, _default(option), _cell(_description(option))))
        for sub, sub_option in option.get("options", {}).items():
            lines.append("| `%s.%s` | %s | %s | %s |\n" % (name, sub, sub_option.get("type", "str"), _default(sub_option), _cell(_description(sub_option))))
    return "".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when the README differs from the specs")
    args = parser.parse_args()
    readme = ROLE / "README.md"
    text = render()
    if args.check:
        if not readme.exists() or readme.read_text() != text:
            print("%s is stale: run %s" % (readme, pathlib.Path(__file__).name), file=sys.stderr)
            return 1
        return 0
    readme.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
