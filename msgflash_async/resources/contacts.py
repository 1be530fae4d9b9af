"""``client.contacts``: contacts and their bulk delete (endpoints C1 to C7)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import NotFoundError
from .._jobs import BulkJobHandle
from .._models import BulkDeleteResult, Contact, ContactGroup
from .._pagination import AsyncPaginator
from .._validation import (
    check_meta,
    check_name,
    check_phone,
    check_search,
    check_sort,
    check_tags,
    path_id,
)
from ._base import UNSET, APIResource, Unset

__all__ = ["ContactsResource"]

_PATH = "/api/v1/contacts"


class ContactsResource(APIResource):
    """Contacts of the workspace."""

    def list(
        self,
        *,
        search: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Contact]:
        """Every contact, newest first (``sort="createdAt_desc"``) or by name (``"name_asc"``).

        ``search`` matches part of the name or phone. ``limit`` is the page size (100 by
        default), ``cursor`` resumes a walk, ``max_items`` caps it.
        """
        params: dict[str, str | int] = {}
        if search is not None:
            params["search"] = check_search(search)
        if sort is not None:
            params["sort"] = check_sort(sort)
        return self._paginate(
            _PATH, Contact, ("contacts",), params, limit=limit, cursor=cursor, max_items=max_items
        )

    async def create(
        self,
        *,
        name: str,
        phone: str,
        tags: Sequence[str] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Contact:
        """Create a contact; ``phone`` is E.164 and unique in the workspace.

        If the outcome of the request is unknown (a timeout or dropped connection after
        sending, a 5xx), it is sent again: the phone's uniqueness means a second copy can
        never be created, and a 409 on that re-send returns the contact the first one made
        (fetched by the id the 409 names, or else found by its phone).
        """
        body: dict[str, Any] = {"name": check_name(name), "phone": check_phone(phone)}
        if tags is not None:
            body["tags"] = check_tags(tags)
        if meta is not None:
            body["meta"] = check_meta(meta)
        return await self._create_unique(
            _PATH,
            body,
            Contact,
            fetch=self.get,
            candidates=self.list(search=phone),
            is_it=lambda contact: contact.phone == phone,
        )

    async def get(self, contact_id: str) -> Contact:
        """One contact by id."""
        response = await self._request("GET", f"{_PATH}/{path_id('contact_id', contact_id)}")
        return self._decode(response, Contact)

    async def update(
        self,
        contact_id: str,
        *,
        name: str | Unset = UNSET,
        phone: str | Unset = UNSET,
        tags: Sequence[str] | Unset = UNSET,
        meta: Mapping[str, Any] | Unset = UNSET,
    ) -> Contact:
        """Change some fields; ``tags`` and ``meta`` replace the current values."""
        path = f"{_PATH}/{path_id('contact_id', contact_id)}"
        body: dict[str, Any] = {}
        if name is not UNSET:
            body["name"] = check_name(name)
        if phone is not UNSET:
            body["phone"] = check_phone(phone)
        if tags is not UNSET:
            body["tags"] = check_tags(tags)
        if meta is not UNSET:
            body["meta"] = check_meta(meta)
        response = await self._request("PUT", path, body=body)
        return self._decode(response, Contact)

    async def delete(self, contact_id: str) -> None:
        """Delete a contact; it leaves all its groups.

        A 404 answering a re-send after an unknown outcome means the first attempt deleted
        it, so it is not an error.
        """
        try:
            await self._request("DELETE", f"{_PATH}/{path_id('contact_id', contact_id)}")
        except NotFoundError as exc:
            if not exc.is_replay:
                raise

    async def bulk_delete(
        self, contact_ids: Sequence[str], *, resend_if_unknown: bool = False
    ) -> BulkJobHandle[BulkDeleteResult]:
        """Delete many contacts; ``await`` the handle for the result.

        Duplicate ids are dropped and more than 10,000 ids are sent in several requests;
        the one handle covers them all.

        ``resend_if_unknown=True`` lets the SDK send a request again when its first outcome is
        unknown (a timeout, a dropped connection, a 5xx). The effect is the same either way,
        but the counts then describe the last request only and a second job may run.
        """
        return await self._bulk(
            "POST",
            f"{_PATH}/bulk-delete",
            contact_ids,
            inline_result=BulkDeleteResult,
            resend_if_unknown=resend_if_unknown,
        )

    async def groups(self, contact_id: str) -> builtins.list[ContactGroup]:
        """The groups a contact belongs to."""
        path = f"{_PATH}/{path_id('contact_id', contact_id)}/groups"
        response = await self._request("GET", path)
        data = response.data
        if isinstance(data, dict) and "groups" in data:
            data = data["groups"]
        return self._decode_list(response, data, ContactGroup)
