"""Write each role's README.md from its meta/argument_specs.yml (--check: fail when one is stale)."""

import argparse
import pathlib
import re
import sys

import yaml

ROLES = pathlib.Path(__file__).resolve().parents[2] / "roles"
HEADER = """# Role dtr.cache.{role}

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


def render(role):
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
    lines = [HEADER.format(role=role.name, description=" ".join(spec["description"]))]
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
    stale = 0
    for role in sorted(path.parent.parent for path in ROLES.glob("*/meta/argument_specs.yml")):
        readme = role / "README.md"
        text = render(role)
        if not args.check:
            readme.write_text(text)
        elif not readme.exists() or readme.read_text() != text:
            print("%s is stale: run %s" % (readme, pathlib.Path(__file__).name), file=sys.stderr)
            stale = 1
    return stale


if __name__ == "__main__":
    sys.exit(main())
