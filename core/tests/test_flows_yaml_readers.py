"""Flows are read with libyaml's parser when PyYAML has it (plait.flows.yaml_loaders): the
values, the positions of every value and every problem must be the very ones PyYAML's own
reader gives. Each text is read both ways; the texts where libyaml is known to read
otherwise (tabs, ``?`` in a flow collection, empty values, tags, directives...) must be left to
PyYAML, and a typical flow must not be."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from plait.flows import yaml_loaders, yaml_positions
from plait.flows.yaml_positions import YamlDocument, load_yaml

pytestmark = pytest.mark.skipif(yaml_loaders.CParser is None, reason="PyYAML without libyaml")

ROOT = Path(__file__).resolve().parents[2]
FLOW = (
    "id: hello\nnamespace: dev\ndescription: |\n  A flow\n  on two lines\ntasks:\n"
    '  - id: t0\n    type: plait.core.Return\n    format: "{{ inputs.day }}"\n'
    "  - id: t1\n    type: plait.core.Log\n    message: 'é {{ outputs.t0.value }}'\n"
    "    retry: {type: constant, interval: PT1S, maxAttempt: 3}\n"
    "    labels: [a, 'b', \"c\"]\n"
)

READ_IN_C = [
    FLOW,
    FLOW.replace("\n", "\r\n"),
    "a: 1\rb: 2\r",
    'id: ü\nnamespace: 日本\nkey: "😀 {{ x }}"\nblock: |\n  😀 line\n  more\n',
    "a: |\n  l1\n  l2\n\nb: >\n  folded\n  text\n\nc: |-\n  x\nd: |+\n  y\n\n\ne: |2\n   in\n",
    "a: |  # a comment after a space\n  text\n",
    "base: &b\n  x: 1\nother:\n  <<: *b\n  y: 2\nlist: [*b, *b]\n",
    "# comment\n---\na: 1 # trailing\n...\n",
    "? complex\n: value\n",
    "a: 'multi\n  line'\nb: \"esc\\n\\u00e9\"\nc: plain\n  continued\n",
    "a: yes\nb: NO\nc: 2024-01-01\nd: 0x1F\ne: .inf\nf: -.5e3\ng: ~\nh: true\n",
    "url: http://x?y=1\nquery: a?b\n",
    "- a\n- b:\n    c: d\n- - nested\n  - list\n",
    "just a scalar",
    "a: 1\na: 2\n",
    "a: [1, 2\n",
    "a: b: c\n",
    "a: *nope\n",
    "a:\n  - 1\n   - 2\n",
]
"""Texts the C reader reads (or finds fault with, then the Python reader reports it)."""

LEFT_TO_PYTHON = [
    "a: 1\t\n",
    "a:\tb\n",
    "a: [x?y]\n",
    "a: {u: http://x?y=1}\n",
    "\ufeffa: 1\n",
    "a: 1\x85b: 2\n",
    "a: x\u2028y\nb: 2\n",
    "{\nkey : value,\nempty: # empty value\n}\n",
    "[\n? explicit key : , # explicit empty\nsimple key : ,\n]\n",
    '{\n"empty":\n}\n',
    "{\n?\n}\n",
    "!\n",
    "a: !!str 123\n",
    "a: !!int c 4\n",
    "{ foo: !!str, !!str : bar }\n",
    "%YAML 1.1#comment\n---\na: 1\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
    "block: |#comment\n  scalar\n",
    "a: \x00\n",
    "a: \x07\n",
]
"""Texts on which libyaml is known to read otherwise than PyYAML (accept, split or place)."""


def both_ways(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[YamlDocument, YamlDocument]:
    fast = load_yaml(text, "f.yml")
    with monkeypatch.context() as patch:
        patch.setattr(yaml_positions, "_read_in_c", lambda *args: None)
        python = load_yaml(text, "f.yml")
    return fast, python


def assert_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, python = both_ways(text, monkeypatch)
    assert repr(fast.data) == repr(python.data)  # repr: types count, and nan is nan
    assert repr(fast.source_map) == repr(python.source_map)
    assert fast.problems == python.problems
    assert fast.readable == python.readable


def read_in_c(text: str) -> bool:
    return yaml_loaders.c_can_read(text) and yaml_positions._read_in_c(text, "f", 100) is not None


def corpus() -> list[str]:
    """The flows of the repository: examples, test data, and the YAML blocks of the docs."""
    files = [*ROOT.glob("examples/**/*.yml"), *ROOT.glob("core/tests/data/flows/*.yml")]
    texts = [path.read_text() for path in sorted(files)]
    for page in sorted(ROOT.glob("docs/*.md")):
        texts += re.findall(r"```yaml\n(.*?)```", page.read_text(), re.DOTALL)
    return texts


@pytest.mark.parametrize("text", READ_IN_C + LEFT_TO_PYTHON)
def test_both_readers_give_the_same_document(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same(text, monkeypatch)


def test_a_typical_flow_is_read_in_c() -> None:
    assert read_in_c(FLOW)
    assert read_in_c(FLOW.replace("\n", "\r\n"))


@pytest.mark.parametrize("text", LEFT_TO_PYTHON)
def test_texts_libyaml_reads_otherwise_are_left_to_pyyaml(text: str) -> None:
    assert not read_in_c(text)


def test_the_flows_of_the_repository_read_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = corpus()
    assert len(texts) >= 10
    for text in texts:
        assert_same(text, monkeypatch)
    assert sum(read_in_c(text) for text in texts) >= len(texts) // 2


def test_altered_flows_read_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small random edits of the flows of the repository (seeded): whatever PyYAML makes of
    them, reading them with libyaml first changes nothing."""
    chooser = random.Random(12)
    pieces = [*":-?[]{},#&*!|>'\"%@ \n\\.~0", "- ", ": ", "\n  ", "é", "{{ x }}", "<<"]
    texts = corpus()
    for _ in range(300):
        text = chooser.choice(texts)
        for _ in range(chooser.randint(1, 3)):
            at = chooser.randrange(len(text) + 1)
            cut = chooser.choice((0, 0, 1, 2))
            text = text[:at] + chooser.choice(pieces) * (cut != 2) + text[at + cut :]
        assert_same(text, monkeypatch)


def test_a_value_that_is_not_its_explicit_type_is_a_problem() -> None:
    document = load_yaml("a: !!int c 4\nb: !!bool f>alse\nc: !!int\n", "f.yml")
    assert [(p.line, p.column, p.message) for p in document.problems] == [
        (1, 4, "cannot read this value as !!int: invalid literal for int() with base 10: 'c 4'"),
        (2, 4, "cannot read this value as !!bool: 'f>alse'"),
        (3, 4, "cannot read this value as !!int: string index out of range"),
    ]
