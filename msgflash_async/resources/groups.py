"""``client.groups``: contact groups and their members (endpoints G1 to G8)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from .._errors import ConflictError
from .._exporting import ExportCallback, ExportFormat, ExportOutput, ExportReport, export_list
from .._jobs import BulkJobHandle
from .._models import AddMembersResult, ContactGroup, GroupMember, RemoveMembersResult
from .._pagination import AsyncPaginator
from .._validation import check_color, check_description, check_name, path_id, search_param
from ._base import UNSET, APIResource, Unset

__all__ = ["GroupsResource"]

_PATH = "/api/v1/contacts/groups"
_decode_group = APIResource._decoder(ContactGroup)


def _group_path(group_id: str) -> str:
    return f"{_PATH}/{path_id('group_id', group_id)}"


class GroupsResource(APIResource):
    """Contact groups of the workspace."""

    def list(
        self,
        *,
        search: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[ContactGroup]:
        """Every group, oldest first; ``search`` matches part of the name or description (an
        empty one filters nothing)."""
        params: dict[str, str | int] = {**search_param(search)}
        return self._paginate(
            _PATH,
            ContactGroup,
            ("groups",),
            params,
            limit=limit,
            cursor=cursor,
            max_items=max_items,
        )

    async def create(
        self, *, name: str, description: str | None = None, color: str | None = None
    ) -> ContactGroup:
        """Create a group; ``name`` is unique in the workspace (ignoring case).

        As with contacts, a request whose outcome is unknown is sent again. A 409 on the name
        for that re-send returns the group holding the name (by the id the 409 names, or else
        found by its name) only if it is provably the one the first attempt created: it has
        exactly this name (same case), and the description and colour given here, and was
        created after this call started (give or take five minutes of clock skew). Otherwise
        ``ConflictError`` is raised, with ``existing_id`` and ``is_replay`` set.
        """
        body: dict[str, Any] = {"name": check_name(name)}
        if description is not None:
            body["description"] = check_description(description)
        if color is not None:
            body["color"] = check_color(color)
        started = time.time()  # as in contacts.create
        try:
            return await self._call(
                "POST", _PATH, _decode_group, body=body, resend_after_unknown_outcome=True
            )
        except ConflictError as conflict:
            return await self._replayed_create(
                conflict,
                body,
                started,
                fetch=self.get,
                candidates=lambda: self.list(search=name),
                holds_value=lambda group: group.name.casefold() == body["name"].casefold(),
            )

    async def get(self, group_id: str) -> ContactGroup:
        """One group by id."""
        return await self._call("GET", _group_path(group_id), _decode_group)

    async def update(
        self,
        group_id: str,
        *,
        name: str | Unset = UNSET,
        description: str | Unset | None = UNSET,
        color: str | Unset | None = UNSET,
    ) -> ContactGroup:
        """Change some fields; ``None`` clears the description or the colour."""
        path = _group_path(group_id)
        body: dict[str, Any] = {}
        if name is not UNSET:
            body["name"] = check_name(name)
        if description is not UNSET:
            body["description"] = check_description(description)
        if color is not UNSET:
            body["color"] = check_color(color)
        return await self._call("PUT", path, _decode_group, body=body)

    async def delete(self, group_id: str) -> None:
        """Delete a group; its contacts are kept. A 404 on a re-send means it is gone."""
        await self._delete(_group_path(group_id))

    async def add_members(
        self, group_id: str, contact_ids: Sequence[str], *, resend_if_unknown: bool = False
    ) -> BulkJobHandle[AddMembersResult]:
        """Add contacts to a group; ``await`` the handle for the result.

        Unknown ids count as not found. Duplicate ids are dropped and more than 10,000 ids
        are sent in several requests under one handle.

        If one of those requests fails, its error keeps what came before it: ``accepted`` is
        a handle over the requests already accepted (``None`` if the first one failed),
        ``accepted_job_ids`` their jobs, and ``unsent_ids`` the ids of the failed request
        and those after it. ``may_have_been_processed`` says whether the failed request may
        have started a job all the same.

        ``resend_if_unknown=True`` lets the SDK send a request again when its first outcome is
        unknown (a timeout, a dropped connection, a 5xx). The effect is the same either way,
        but the counts then describe the last request only and a second job may run.
        """
        return await self._bulk(
            "POST",
            f"{_group_path(group_id)}/members",
            contact_ids,
            inline_result=AddMembersResult,
            resend_if_unknown=resend_if_unknown,
        )

    async def remove_members(
        self, group_id: str, contact_ids: Sequence[str], *, resend_if_unknown: bool = False
    ) -> BulkJobHandle[RemoveMembersResult]:
        """Remove contacts from a group; ``await`` the handle for the result.

        Like ``add_members``, errors of a call split into several requests included.
        Although a DELETE, it is not re-sent after an unknown outcome unless
        ``resend_if_unknown=True``: a re-send may start a second job.
        """
        return await self._bulk(
            "DELETE",
            f"{_group_path(group_id)}/members",
            contact_ids,
            inline_result=RemoveMembersResult,
            resend_if_unknown=resend_if_unknown,
        )

    def members(
        self,
        group_id: str,
        *,
        search: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[GroupMember]:
        """Every member of a group, in the order they joined; ``search`` matches name or phone
        (an empty one filters nothing)."""
        params: dict[str, str | int] = {**search_param(search)}
        return self._paginate(
            f"{_group_path(group_id)}/members",
            GroupMember,
            ("members", "contacts"),
            params,
            limit=limit,
            cursor=cursor,
            max_items=max_items,
        )

    async def export_members(
        self,
        group_id: str,
        output: ExportOutput,
        *,
        format: ExportFormat = "ndjson",
        state_file: str | os.PathLike[str] | None = None,
        search: str | None = None,
        by_alias: bool = False,
        limit: int | None = None,
        on_progress: ExportCallback | None = None,
    ) -> ExportReport:
        """Write every member of a group, in the order they joined, to ``output``.

        As ``contacts.export``, with an ``added_at`` column in CSV; ``search`` and ``limit``
        are those of ``members``, and a state file resumes only the same group's export.
        """
        return await export_list(
            lambda cursor: self.members(group_id, search=search, limit=limit, cursor=cursor),
            output,
            model=GroupMember,
            source=f"groups/{group_id}/members",
            format=format,
            state_file=state_file,
            search=search,
            by_alias=by_alias,
            on_progress=on_progress,
            clock=self._transport.clock,
        )
