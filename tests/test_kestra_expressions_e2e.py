"""`plait run` of a flow written with Kestra's expression language as Kestra users write it:
functions and filters Kestra has (``yaml()``, ``renderOnce``, ``regexReplace``, ``nindent``,
``md5``, ``flatten``...), the ternary and ``isIn``, and a reference guarded by ``??`` that
Kestra accepts although the task does not exist."""

from __future__ import annotations

import hashlib

FLOW = """\
id: kestra_expressions
namespace: dev.tests
variables:
  config: |
    name: plait
    tags: [a, b]
  greeting: "Hello {{ inputs.who }}"
inputs:
  - id: who
    type: STRING
    defaults: world
tasks:
  - id: data
    type: io.kestra.plugin.core.debug.Return
    format: "{{ yaml(vars.config).tags | join(',') }}"
  - id: check
    type: io.kestra.plugin.core.debug.Return
    format: "{{ outputs.data.value isIn ['a,b'] ? 'yes' : 'no' }}/{{ outputs.not_there ?? 'none' }}"
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ renderOnce(vars.greeting) | regexReplace('(o+)', '[$1]') }}"
outputs:
  - id: check
    type: STRING
    value: "{{ outputs.check.value }}"
  - id: manifest
    type: STRING
    value: |
      spec:{{ yaml(vars.config) | yaml | nindent(2) }}
  - id: digest
    type: STRING
    value: "{{ inputs.who | md5 }} {{ [1, [2, 3, 1]] | flatten | distinct | chunk(2) }}"
"""


def test_a_flow_using_kestras_expressions_runs(cli, write_flow):
    done = cli("run", str(write_flow(FLOW)), "-i", "who=plait", "--json")
    assert done.code == 0, done.stderr
    doc = done.json()
    assert doc["state"]["current"] == "SUCCESS"
    assert doc["outputs"] == {
        "check": "yes/none",
        "manifest": "spec:\n  name: plait\n  tags:\n   - a\n   - b\n  \n",
        "digest": hashlib.md5(b"plait").hexdigest() + " [[1,2],[3]]",
    }
    assert "Hell[o] plait" in done.stderr + done.stdout


def test_an_unguarded_reference_to_a_missing_task_is_still_refused(cli, write_flow):
    flow = FLOW.replace("{{ outputs.not_there ?? 'none' }}", "{{ outputs.not_there.value }}")
    done = cli("run", str(write_flow(flow)))
    assert done.code == 2
    assert "references unknown task 'not_there'" in done.stderr
    assert "Traceback" not in done.stderr
