"""``msgflash contacts get ID | create --name --phone [--tag ...] [--meta JSON] | delete ID``."""

from __future__ import annotations

import json
from typing import Any

import click

from .._models import Contact
from ._shell import Settings, json_option, print_json, show_record

__all__ = ["contacts"]


@click.group()
def contacts() -> None:
    """Contacts of the workspace."""


def _show(contact: Contact, as_json: bool) -> None:
    show_record(contact.to_dict(), as_json, title=f"contact {contact.id}")


@contacts.command()
@click.argument("contact_id", metavar="ID")
@json_option
@click.pass_obj
def get(settings: Settings, contact_id: str, as_json: bool) -> None:
    """Show one contact."""
    _show(settings.call(lambda client: client.contacts.get(contact_id)), as_json)


def _json_object(_ctx: click.Context, _param: click.Parameter, text: str | None) -> Any:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise click.BadParameter('must be a JSON object, such as \'{"source": "fair"}\'')
    return value


@contacts.command()
@click.option("--name", required=True, help="1 to 100 characters.")
@click.option("--phone", required=True, help="E.164, unique in the workspace: +22997000001.")
@click.option("--tag", "tags", multiple=True, help="A tag; repeat for several.")
@click.option("--meta", callback=_json_object, metavar="JSON", help="A JSON object.")
@json_option
@click.pass_obj
def create(
    settings: Settings,
    name: str,
    phone: str,
    tags: tuple[str, ...],
    meta: dict[str, Any] | None,
    as_json: bool,
) -> None:
    """Create a contact."""
    contact = settings.call(
        lambda client: client.contacts.create(
            name=name, phone=phone, tags=list(tags) or None, meta=meta
        )
    )
    _show(contact, as_json)


@contacts.command()
@click.argument("contact_id", metavar="ID")
@json_option
@click.pass_obj
def delete(settings: Settings, contact_id: str, as_json: bool) -> None:
    """Delete a contact; it leaves all its groups."""
    settings.call(lambda client: client.contacts.delete(contact_id))
    if as_json:
        print_json({"id": contact_id, "deleted": True})
    else:
        click.echo(f"deleted contact {contact_id}")
