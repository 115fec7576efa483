"""``plait kv``: the KV store from the command line (Kestra's ``kestra namespace kv``), on the
same store flows read with ``kv()`` and write with the Set task."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click
from plait_sdk.kv import KV_TYPES, KVMissing

from plait.cli.engine import open_engine
from plait.cli.main import user_errors
from plait.cli.output import print_json, table
from plait.errors import PlaitError
from plait.state.kv import (
    KVKeyError,
    NamespaceKV,
    check_key,
    missing,
    parse_ttl,
    shown_date,
    typed_value,
    value_from_text,
)


@click.group()
def kv() -> None:
    """Set, read, list and delete values of the KV store (per namespace)."""


def _key(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        return check_key(value)
    except KVKeyError as exc:
        raise click.BadParameter(str(exc)) from None


key_argument = click.argument("key", callback=_key)


def _ttl(_ctx: click.Context, _param: click.Parameter, value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_ttl(value)
    except PlaitError as exc:
        raise click.BadParameter(str(exc)) from None


@kv.command("set")
@click.argument("namespace")
@key_argument
@click.argument("value", required=False)
@click.option(
    "-f",
    "--file-value",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the value from this file instead of VALUE.",
)
@click.option(
    "-t",
    "--type",
    "kv_type",
    type=click.Choice(KV_TYPES),
    help="Read the value as this type; by default JSON when it parses (42, true, {...}), "
    "else text.",
)
@click.option(
    "-e",
    "--ttl",
    "--expiration",
    "ttl",
    callback=_ttl,
    help="Expire the value after this ISO-8601 duration (PT1H, P7D).",
)
@click.option("--no-overwrite", is_flag=True, help="Fail if the key already holds a value.")
@user_errors
def set_value(
    namespace: str,
    key: str,
    value: str | None,
    file: Path | None,
    kv_type: str | None,
    ttl: timedelta | None,
    no_overwrite: bool,
) -> None:
    """Store VALUE under KEY in NAMESPACE."""
    if file is not None:
        try:
            value = file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PlaitError(f"cannot read {file}: {exc}") from None
    if value is None:
        raise click.UsageError("give a VALUE or --file-value")
    try:
        typed, kind = typed_value(value, kv_type) if kv_type else value_from_text(value)
    except PlaitError as exc:
        raise click.BadParameter(str(exc), param_hint="VALUE") from None
    with open_engine() as engine:
        store = NamespaceKV(engine.repository, namespace)
        store.put(key, typed, ttl=ttl, overwrite=not no_overwrite, kv_type=kind)


@kv.command("get")
@click.argument("namespace")
@key_argument
@click.option("--json", "as_json", is_flag=True, help="Print the value as JSON, text quoted.")
@user_errors
def get_value(namespace: str, key: str, as_json: bool) -> None:
    """Print the value of KEY in NAMESPACE (text as is, other values as JSON)."""
    with open_engine() as engine:
        try:
            value = NamespaceKV(engine.repository, namespace).get(key)
        except KVMissing as exc:
            raise PlaitError(str(exc)) from None
    if isinstance(value, str) and not as_json:
        click.echo(value)
    else:
        click.echo(json.dumps(value, ensure_ascii=False))


@kv.command("list")
@click.argument("namespace", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print Kestra's KV entry documents.")
@user_errors
def list_values(namespace: str | None, as_json: bool) -> None:
    """List the keys of NAMESPACE (of every namespace without it) that have not expired."""
    with open_engine() as engine:
        entries = engine.repository.kv_list(namespace)
    if as_json:
        print_json([{"namespace": e.namespace, **e.to_document()} for e in entries])
        return
    rows = [
        (e.namespace, e.key, e.type, e.value, shown_date(e.updated), shown_date(e.expires))
        for e in entries
    ]
    click.echo(table(["NAMESPACE", "KEY", "TYPE", "VALUE", "UPDATED", "EXPIRES"], rows))


@kv.command("delete")
@click.argument("namespace")
@key_argument
@user_errors
def delete_value(namespace: str, key: str) -> None:
    """Delete KEY from NAMESPACE; fails when it holds no value."""
    with open_engine() as engine:
        if not NamespaceKV(engine.repository, namespace).delete(key):
            raise PlaitError(str(missing(namespace, key)))
