"""``msgflash groups list | create NAME [--color] [--description]``."""

from __future__ import annotations

import click

from .._client import MsgFlash
from .._models import ContactGroup
from ._shell import Settings, json_option, show_list, show_record

__all__ = ["groups"]


@click.group()
def groups() -> None:
    """Contact groups of the workspace."""


@groups.command("list")
@click.option("--search", help="Part of the name or description.")
@json_option
@click.pass_obj
def list_groups(settings: Settings, search: str | None, as_json: bool) -> None:
    """List the groups, oldest first."""

    async def fetch(client: MsgFlash) -> list[ContactGroup]:
        return [group async for group in client.groups.list(search=search)]

    columns = ("id", "name", "contact_count", "color", "description")
    show_list([group.to_dict() for group in settings.call(fetch)], as_json, columns)


@groups.command()
@click.argument("name")
@click.option("--color", help="#RRGGBB.")
@click.option("--description")
@json_option
@click.pass_obj
def create(
    settings: Settings, name: str, color: str | None, description: str | None, as_json: bool
) -> None:
    """Create a group; its name is unique in the workspace, ignoring case."""

    group = settings.call(
        lambda client: client.groups.create(name=name, color=color, description=description)
    )
    show_record(group.to_dict(), as_json, title=f"group {group.id}")
