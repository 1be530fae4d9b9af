"""``client.contacts``: contacts and their bulk delete (endpoints C1 to C7)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

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
_decode_contact = APIResource._decoder(Contact)
_decode_groups = APIResource._list_decoder(ContactGroup, "groups")


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
        sending, a 5xx, an answer of the wrong shape), it is sent again: the phone's
        uniqueness means a second copy can never be created. A 409 on that re-send returns
        the contact holding the phone (fetched by the id the 409 names, or else found by its
        phone) only if it is provably the one the first attempt made: it has the name, phone,
        and the tags and meta given here, and was created after this call started (give or
        take five minutes of clock skew). Otherwise :class:`ConflictError` is raised, with
        ``existing_id`` and ``is_replay`` set.
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
            holds_value=lambda contact: contact.phone == body["phone"],
        )

    async def get(self, contact_id: str) -> Contact:
        """One contact by id."""
        return await self._call(
            "GET", f"{_PATH}/{path_id('contact_id', contact_id)}", _decode_contact
        )

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
        return await self._call("PUT", path, _decode_contact, body=body)

    async def delete(self, contact_id: str) -> None:
        """Delete a contact; it leaves all its groups.

        A 404 answering a re-send after an unknown outcome means the first attempt deleted
        it, so it is not an error.
        """
        await self._delete(f"{_PATH}/{path_id('contact_id', contact_id)}")

    async def bulk_delete(
        self, contact_ids: Sequence[str], *, resend_if_unknown: bool = False
    ) -> BulkJobHandle[BulkDeleteResult]:
        """Delete many contacts; ``await`` the handle for the result.

        Duplicate ids are dropped and more than 10,000 ids are sent in several requests;
        the one handle covers them all.

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
            f"{_PATH}/bulk-delete",
            contact_ids,
            inline_result=BulkDeleteResult,
            resend_if_unknown=resend_if_unknown,
        )

    async def groups(self, contact_id: str) -> builtins.list[ContactGroup]:
        """The groups a contact belongs to."""
        path = f"{_PATH}/{path_id('contact_id', contact_id)}/groups"
        return await self._call("GET", path, _decode_groups)
