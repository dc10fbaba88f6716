"""AWX as code: the surveys are valid for AWX and for the role, and the job templates point at real playbooks.

AWX is not reachable from the tests. The survey checks follow AWX's own validation of a survey spec
(POST /api/v2/job_templates/N/survey_spec/) and of the answers at launch; playbooks/awx-configure.yml
runs for real in its export mode, which writes what it would create instead of contacting AWX.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
CONFIGURE = ROOT / "playbooks" / "awx-configure.yml"
JOB_TEMPLATES_FILE = ROOT / "playbooks" / "vars" / "awx-job-templates.yml"
ARGUMENT_SPECS = ROOT / "roles" / "dtr_cache" / "meta" / "argument_specs.yml"
ROLE = "dtr.cache.dtr_cache"
SETTINGS = ["-e", "awx_project_scm_url=https://git.example.com/dtr/cache.git",
            "-e", "awx_ee_image=registry.example.com/dtr-cache-ee:0.1.0"]

# AWX's question types and the Python type of their answers (JobTemplateSurveySpec.ALLOWED_TYPES).
AWX_TYPES = {"text": str, "textarea": str, "password": str, "multiplechoice": str, "multiselect": str,
             "integer": int, "float": float}
# The role argument types each question type's answer satisfies without conversion.
COMPATIBLE = {"text": {"str", "path", "raw"}, "textarea": {"str", "path", "raw"}, "password": {"str", "raw"},
              "integer": {"int", "raw"}, "float": {"float", "raw"}, "multiplechoice": {"str", "raw"},
              "multiselect": {"list"}}


def survey_errors(survey):
    """What AWX would refuse in a survey spec, as a list of messages (empty when AWX accepts it)."""
    errors = []
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if field not in survey:
            errors.append("Field '%s' is missing from survey spec." % field)
        elif not isinstance(survey[field], kind):
            errors.append("Expected %s for field '%s'." % (kind.__name__, field))
    if errors:
        return errors
    if not survey["spec"]:
        return ["'spec' doesn't contain any items."]
    variables = set()
    for index, question in enumerate(survey["spec"]):
        if not isinstance(question, dict):
            errors.append("Survey question %d is not a json object." % index)
            continue
        missing = [field for field in ("type", "question_name", "variable", "required") if field not in question]
        if missing:
            errors.append("%s missing from survey question %d" % (missing, index))
            continue
        for field in ("type", "question_name", "variable"):
            if not isinstance(question[field], str):
                errors.append("'%s' in survey question %d expected to be string." % (field, index))
        if not isinstance(question["required"], bool):
            errors.append("'required' in survey question %d expected to be boolean." % index)
        if question["variable"] in variables:
            errors.append("'variable' '%s' duplicated in survey question %d." % (question["variable"], index))
        variables.add(question["variable"])
        qtype = question["type"]
        if qtype not in AWX_TYPES:
            errors.append("'%s' in survey question %d is not an allowed question type." % (qtype, index))
            continue
        limits_ok = True
        for key in ("min", "max"):
            if question.get(key) is not None and (isinstance(question[key], bool) or not isinstance(question[key], int)):
                errors.append("The %s limit in survey question %d expected to be integer." % (key, index))
                limits_ok = False
        default = question.get("default")
        if "default" in question and default != "":
            expected = (int, float) if qtype == "float" else AWX_TYPES[qtype]
            if isinstance(default, bool) or not isinstance(default, expected):
                errors.append("Default value %r in survey question %d expected to be %s." % (default, index, qtype))
            elif limits_ok and answer_errors(question, default):
                errors.append("Default value %r in survey question %d is not a valid answer: %s" % (
                    default, index, answer_errors(question, default)))
        if qtype in ("multiplechoice", "multiselect"):
            choices = question.get("choices")
            if isinstance(choices, str):
                choices = [choice for choice in choices.splitlines() if choice.strip()]
            if not choices or not isinstance(choices, list):
                errors.append("Survey question %d of type %s must specify choices." % (index, qtype))
            if isinstance(default, str) and default:
                defaults = default.splitlines()
                if qtype == "multiplechoice" and len(defaults) > 1:
                    errors.append("Multiple Choice (Single Select) can only have one default value.")
                if any(item not in (choices or []) for item in defaults):
                    errors.append("Default choice must be answered from the choices listed.")
        if qtype == "password" and isinstance(default, str) and default.startswith("$encrypted$"):
            errors.append("$encrypted$ is a reserved keyword, may not be used for new default in position %d." % index)
    return errors


def choices_of(question):
    choices = question.get("choices") or []
    return [choice for choice in choices.splitlines() if choice.strip()] if isinstance(choices, str) else choices


def answer_errors(question, answer):
    """What AWX refuses in an answer at launch (SurveyJobTemplateMixin._survey_element_validation)."""
    qtype = question["type"]
    if qtype in ("text", "textarea", "password"):
        if not isinstance(answer, str):
            return "expected a string"
        if question.get("min") not in ("", None) and len(answer) < int(question["min"]):
            return "shorter than %s" % question["min"]
        if question.get("max") not in ("", None) and len(answer) > int(question["max"]):
            return "longer than %s" % question["max"]
    elif qtype in ("integer", "float"):
        if isinstance(answer, bool) or not isinstance(answer, int if qtype == "integer" else (int, float)):
            return "expected a number"
        if question.get("min") not in ("", None) and answer < question["min"]:
            return "less than %s" % question["min"]
        if question.get("max") not in ("", None) and answer > question["max"]:
            return "more than %s" % question["max"]
    elif qtype == "multiplechoice" and answer not in choices_of(question):
        return "not one of %s" % choices_of(question)
    elif qtype == "multiselect" and (not isinstance(answer, list) or any(item not in choices_of(question) for item in answer)):
        return "not a list of %s" % choices_of(question)
    return ""


def valid_answers(question):
    """Answers AWX accepts for the question: its default, its limits and every choice."""
    answers = []
    if question.get("default") not in (None, ""):
        answers.append(question["default"])
    if question["type"] in ("integer", "float"):
        answers += [question[key] for key in ("min", "max") if question.get(key) is not None]
    elif question["type"] == "multiplechoice":
        answers += choices_of(question)
    elif question["type"] == "multiselect":
        answers.append(choices_of(question))
    else:
        answers += ["", "x" * int(question.get("max") or 1)]
    return answers


def job_templates():
    return yaml.safe_load(JOB_TEMPLATES_FILE.read_text())["awx_job_templates"]


def argument_specs():
    return yaml.safe_load(ARGUMENT_SPECS.read_text())["argument_specs"]


def entry_point(playbook):
    """The role entry point whose argument spec validates a playbook's variables."""
    entries = set()
    for play in yaml.safe_load((ROOT / playbook).read_text()):
        for role in play.get("roles", []):
            if (role.get("role") if isinstance(role, dict) else role) == ROLE:
                entries.add("main")
        for task in play.get("tasks", []):
            include = task.get("ansible.builtin.include_role") or task.get("ansible.builtin.import_role")
            if include and include.get("name") == ROLE:
                entries.add(pathlib.Path(include.get("tasks_from", "main")).stem)
    assert len(entries) == 1, "%s should run %s once, found entry points %s" % (playbook, ROLE, entries)
    return entries.pop()


def questions():
    """Every (action, question, role argument spec options) of the job templates."""
    specs = argument_specs()
    # A missing playbook fails test_every_action_has_a_survey_and_an_existing_playbook.
    return [(action, question, specs[entry_point(definition["playbook"])]["options"])
            for action, definition in sorted(job_templates().items()) if (ROOT / definition["playbook"]).is_file()
            for question in definition["survey"]["spec"]]


def ids(cases):
    return ["%s-%s" % (case[0], case[1]["variable"]) for case in cases]


def run(args, cwd=ROOT, timeout=120):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               PATH="%s%s%s" % (BIN, os.pathsep, os.environ.get("PATH", "")))
    result = subprocess.run(args, cwd=str(cwd), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=timeout, check=False)
    return result.returncode, result.stdout


def export(tmp_path, *extra, playbook=CONFIGURE, cwd=ROOT):
    """Run awx-configure.yml in export mode; return (returncode, output, exported objects or None)."""
    out = tmp_path / "export"
    out.mkdir(exist_ok=True)
    code, output = run([str(BIN / "ansible-playbook"), str(playbook), "-e", "awx_export_dir=%s" % out] + SETTINGS + list(extra),
                       cwd=cwd)
    exported = out / "awx-objects.json"
    return code, output, json.loads(exported.read_text()) if exported.exists() else None


# --- the survey checker itself ---------------------------------------------------------------------

GOOD_SURVEY = {"name": "s", "description": "d", "spec": [
    {"question_name": "n", "variable": "v", "type": "integer", "required": True, "min": 1, "max": 3, "default": 2},
    {"question_name": "c", "variable": "w", "type": "multiplechoice", "required": False, "choices": ["a", "b"], "default": "a"},
]}


def _broken(change):
    survey = json.loads(json.dumps(GOOD_SURVEY))
    change(survey)
    return survey


BROKEN_SURVEYS = [
    ("no description", lambda s: s.pop("description"), "Field 'description' is missing"),
    ("empty spec", lambda s: s.update(spec=[]), "doesn't contain any items"),
    ("unknown type", lambda s: s["spec"][0].update(type="number"), "not an allowed question type"),
    ("required as text", lambda s: s["spec"][0].update(required="yes"), "'required' in survey question 0"),
    ("no variable", lambda s: s["spec"][0].pop("variable"), "['variable'] missing"),
    ("duplicate variable", lambda s: s["spec"][1].update(variable="v"), "'variable' 'v' duplicated"),
    ("integer default as text", lambda s: s["spec"][0].update(default="2"), "expected to be integer"),
    ("default above max", lambda s: s["spec"][0].update(default=4), "more than 3"),
    ("max as text", lambda s: s["spec"][0].update(max="3"), "The max limit"),
    ("choice type without choices", lambda s: s["spec"][1].pop("choices"), "must specify choices"),
    ("default not a choice", lambda s: s["spec"][1].update(default="c"), "Default choice must be answered"),
    ("two defaults for single select", lambda s: s["spec"][1].update(default="a\nb"), "can only have one default"),
]


def test_the_checker_accepts_a_valid_survey():
    assert survey_errors(GOOD_SURVEY) == []


@pytest.mark.parametrize("case, change, message", BROKEN_SURVEYS, ids=[case[0] for case in BROKEN_SURVEYS])
def test_the_checker_refuses_what_awx_refuses(case, change, message):
    errors = survey_errors(_broken(change))
    assert any(message in error for error in errors), (case, errors)


# --- the surveys -------------------------------------------------------------------------------------

def test_every_action_has_a_survey_and_an_existing_playbook():
    definitions = job_templates()
    assert sorted(definitions) == ["deploy", "remove", "verify"]
    for action, definition in definitions.items():
        playbook = ROOT / definition["playbook"]
        assert playbook.is_file(), "%s: %s does not exist" % (action, definition["playbook"])
        plays = yaml.safe_load(playbook.read_text())
        # The group itself, or (deploy-cache.yml's two tiers) an expression over it.
        assert all(play["hosts"] == "dtr_caches" or play["hosts"].startswith("{{ groups.dtr_caches | ") for play in plays), (
            "%s must run on the sites" % definition["playbook"])
        assert survey_errors(definition["survey"]) == [], action


@pytest.mark.parametrize("action, question, options", questions(), ids=ids(questions()))
def test_survey_variable_is_a_role_variable_of_a_compatible_type(action, question, options):
    name = question["variable"]
    assert name in options, "%s survey: %s is not in the role's argument spec" % (action, name)
    spec = options[name]
    assert spec.get("type", "raw") in COMPATIBLE[question["type"]], (
        "%s survey: %s is a %s question but the role wants %s" % (action, name, question["type"], spec.get("type")))
    if question["type"] in ("multiplechoice", "multiselect") and "choices" in spec:
        extra = set(choices_of(question)) - set(spec["choices"])
        assert not extra, "%s survey: %s offers %s, which the role refuses" % (action, name, sorted(extra))


@pytest.mark.parametrize("action, question, options", questions(), ids=ids(questions()))
def test_every_valid_answer_passes_the_role_validation(action, question, options):
    for answer in valid_answers(question):
        assert answer_errors(question, answer) == "", (question["variable"], answer)
        result = ArgumentSpecValidator(options).validate({question["variable"]: answer})
        assert result.error_messages == [], (action, question["variable"], answer)
        assert result.validated_parameters[question["variable"]] == answer


def test_site_defaults_are_questions_whose_default_is_the_role_default():
    specs = argument_specs()
    for action, definition in job_templates().items():
        survey = {question["variable"]: question for question in definition["survey"]["spec"]}
        options = specs[entry_point(definition["playbook"])]["options"]
        for name in definition["site_defaults"]:
            assert name in survey, "%s: site default %s is not a question" % (action, name)
            assert survey[name]["default"] == options[name]["default"], (action, name)


def test_remove_needs_an_explicit_confirmation():
    remove = job_templates()["remove"]
    (question,) = remove["survey"]["spec"]
    assert question["variable"] == "dtr_cache_state"
    assert question["type"] == "multiplechoice" and choices_of(question) == ["absent"]
    assert question["required"] is True
    assert question.get("default", "") == "", "nothing may be chosen in advance"
    assert remove["site_defaults"] == []
    # The playbook removes whatever the answer; the survey only makes the operator say it.
    assert yaml.safe_load((ROOT / remove["playbook"]).read_text())[0]["roles"][0]["vars"]["dtr_cache_state"] == "absent"


WRONG_ANSWERS = [
    ("playbooks/deploy-cache.yml", "dtr_cache_replicas=abc", "argument 'dtr_cache_replicas' is of type str and we were unable to convert to int"),
    ("playbooks/deploy-cache.yml", "dtr_cache_log_level=verbose", "value of dtr_cache_log_level must be one of: error, warn, info, debug, got: verbose"),
    ("playbooks/remove-cache.yml", "dtr_cache_state=gone", "value of dtr_cache_state must be one of: present, absent, got: gone"),
]


@pytest.mark.parametrize("playbook, answer, message", WRONG_ANSWERS, ids=[case[1] for case in WRONG_ANSWERS])
def test_a_wrong_answer_fails_in_the_role_validation_before_anything_runs(playbook, answer, message):
    # AWX passes survey answers as extra vars, exactly like -e; no cluster or DTR is needed.
    code, output = run([str(BIN / "ansible-playbook"), playbook, "-i", "inventories/example", "--limit", "eu-west", "-e", answer])
    assert code == 2, output
    assert message in output
    assert "Validation of arguments failed" in output
    # The role's first task is its argument validation; nothing of it ran before that failed.
    tasks = [line for line in output.splitlines() if line.startswith("TASK [dtr.cache.")]
    assert len(tasks) == 1 and "Validating arguments against arg spec" in tasks[0], tasks
    # The validation is the one failure (ok=1 where the play includes the role as a task).
    assert re.search(r"eu-west\s+: ok=[01]\s+changed=0\s+unreachable=0\s+failed=1 ", output), output[-600:]


# --- the playbook ---------------------------------------------------------------------------------------

def test_configure_playbook_syntax():
    code, output = run([str(BIN / "ansible-playbook"), "--syntax-check", str(CONFIGURE)])
    assert code == 0, output


class _PlaybookLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """YAML with Ansible's !unsafe tag."""


_PlaybookLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def test_configure_playbook_uses_awx_modules_and_the_job_template_definitions():
    (play,) = yaml.load(CONFIGURE.read_text(), Loader=_PlaybookLoader)  # noqa: S506 - a SafeLoader
    assert play["vars_files"] == ["vars/awx-job-templates.yml"]
    modules = {key for task in play["tasks"] for key in task if key.startswith("awx.awx.")}
    assert modules >= {"awx.awx.organization", "awx.awx.project", "awx.awx.execution_environment", "awx.awx.credential_type",
                       "awx.awx.credential", "awx.awx.inventory", "awx.awx.inventory_source", "awx.awx.job_template"}
    (template_task,) = [task for task in play["tasks"] if "awx.awx.job_template" in task]
    arguments = template_task["awx.awx.job_template"]
    assert arguments["playbook"] == "{{ item.playbook }}"
    assert arguments["survey_enabled"] is True and arguments["ask_variables_on_launch"] is False
    # Connection settings come from CONTROLLER_* in the environment, never from the playbook.
    assert not any(key.startswith(("controller_", "tower_")) for task in play["tasks"] for module in task.values()
                   if isinstance(module, dict) for key in module)
    (secret_task,) = [task for task in play["tasks"] if "awx.awx.credential" in task]
    assert secret_task["no_log"] is True


def test_export_has_one_inventory_credential_and_three_job_templates_per_site(tmp_path):
    code, output, objects = export(tmp_path, "-e", "awx_dtr_admin_username=admin", "-e", "awx_dtr_admin_password=s3cret-dtr",
                                   "-e", '{"awx_kubernetes_credentials": {"eu-west": {"host": "https://k8s", "bearer_token": "s3cret-k8s"}}}')
    assert code == 0, output
    sites = ["eu-west", "ap-south"]
    assert [inventory["name"] for inventory in objects["inventories"]] == ["dtr-cache " + site for site in sites]
    assert {inventory["source_path"] for inventory in objects["inventories"]} == {"inventories/example"}
    assert [credential["name"] for credential in objects["credentials"]] == [
        "dtr-cache eu-west kubernetes", "dtr-cache ap-south kubernetes", "dtr-cache DTR admin"]
    assert objects["credentials"][0]["credential_type"] == "OpenShift or Kubernetes API Bearer Token"
    (credential_type,) = objects["credential_types"]
    assert credential_type["injectors"] == {"extra_vars": {"dtr_cache_dtr_admin_username": "{{ username }}",
                                                           "dtr_cache_dtr_admin_password": "{{ password }}"}}
    assert [field["id"] for field in credential_type["inputs"]["fields"] if field.get("secret")] == ["password"]
    templates = {template["name"]: template for template in objects["job_templates"]}
    assert sorted(templates) == sorted("dtr-cache %s %s" % (site, action) for site in sites for action in ("deploy", "verify", "remove"))
    for template in templates.values():
        assert template["limit"] == template["site"] and template["inventory"] == "dtr-cache " + template["site"]
        assert (ROOT / template["playbook"]).is_file()
        assert survey_errors(template["survey_spec"]) == [], template["name"]
        expected = ["dtr-cache %s kubernetes" % template["site"]]
        if template["action"] != "verify":
            expected.append("dtr-cache DTR admin")
        assert template["credentials"] == expected
    text = json.dumps(objects)
    assert "s3cret" not in text, "no secret reaches the export"


def test_without_a_dtr_admin_there_is_no_dtr_credential(tmp_path):
    code, output, objects = export(tmp_path)
    assert code == 0, output
    assert objects["credential_types"] == []
    assert [credential["name"] for credential in objects["credentials"]] == ["dtr-cache eu-west kubernetes", "dtr-cache ap-south kubernetes"]
    assert all(len(template["credentials"]) == 1 for template in objects["job_templates"])


def _repository_copy(tmp_path, sites):
    """The configure playbook next to an inventory of the given sites and their host vars."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "playbooks", repo / "playbooks")
    (repo / "inventories" / "sites" / "host_vars").mkdir(parents=True)
    (repo / "inventories" / "sites" / "hosts.yml").write_text(yaml.safe_dump({"dtr_caches": {"hosts": {site: None for site in sites}}}))
    for site, host_vars in sites.items():
        (repo / "inventories" / "sites" / "host_vars" / (site + ".yml")).write_text(yaml.safe_dump(host_vars))
    return repo / "playbooks" / "awx-configure.yml"


def test_survey_defaults_are_the_site_inventory_values(tmp_path):
    playbook = _repository_copy(tmp_path, {"north": {
        "dtr_cache_image": "mirantis/dtr-content-cache:2.9.16", "dtr_cache_replicas": 3, "dtr_cache_log_level": "debug",
        "dtr_cache_verify_url": "https://10.0.0.5:30443", "dtr_cache_state": "present"}})
    code, output, objects = export(tmp_path, "-e", "awx_inventory_dir=inventories/sites", playbook=playbook)
    assert code == 0, output
    defaults = {template["action"]: {question["variable"]: question.get("default") for question in template["survey_spec"]["spec"]}
                for template in objects["job_templates"]}
    assert defaults == {
        "deploy": {"dtr_cache_image": "mirantis/dtr-content-cache:2.9.16", "dtr_cache_replicas": 3, "dtr_cache_log_level": "debug"},
        "verify": {"dtr_cache_verify_url": "https://10.0.0.5:30443"},
        "remove": {"dtr_cache_state": ""},
    }


def test_a_site_value_that_is_no_valid_answer_stops_the_configuration(tmp_path):
    playbook = _repository_copy(tmp_path, {
        "below-min": {"dtr_cache_replicas": 0},
        "templated": {"dtr_cache_replicas": "{{ replicas }}"},
        "not-a-choice": {"dtr_cache_log_level": "trace"},
        "templated-image": {"dtr_cache_image": "{{ registry }}/dtr-content-cache:2.9.16"},
        "fine": {"dtr_cache_replicas": 2, "dtr_cache_image": "registry.example.com/dtr-content-cache:2.9.16"},
    })
    code, output, objects = export(tmp_path, "-e", "awx_inventory_dir=inventories/sites", playbook=playbook)
    assert code != 0
    assert objects is None, "nothing is written"
    flat = " ".join(output.split())
    assert "dtr-cache below-min deploy: the default 0 of dtr_cache_replicas" in flat
    assert "dtr-cache templated deploy: the default \"{{ replicas }}\" of dtr_cache_replicas" in flat
    assert "dtr-cache not-a-choice deploy: the default \"trace\" of dtr_cache_log_level" in flat
    assert "dtr-cache templated-image deploy: the default \"{{ registry }}/dtr-content-cache:2.9.16\" of dtr_cache_image" in flat
    assert "dtr-cache fine deploy: the default" not in flat


def test_missing_settings_stop_the_configuration(tmp_path):
    code, output = run([str(BIN / "ansible-playbook"), str(CONFIGURE), "-e", "awx_export_dir=%s" % tmp_path])
    assert code != 0
    assert "awx_project_scm_url (the URL AWX clones this repository from)" in output
    assert not list(tmp_path.iterdir())
