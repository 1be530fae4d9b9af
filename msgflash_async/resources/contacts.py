"""``client.contacts``: contacts and their bulk delete (endpoints C1 to C7)."""

from __future__ import annotations

import builtins
import os
import time
from collections.abc import AsyncIterable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .._errors import ConflictError
from .._exporting import ExportCallback, ExportFormat, ExportOutput, ExportReport, export_list
from .._jobs import BulkJobHandle
from .._models import BulkDeleteResult, Contact, ContactGroup
from .._pagination import AsyncPaginator
from .._validation import (
    ContactSort,
    check_meta,
    check_name,
    check_phone,
    check_sort,
    check_tags,
    path_id,
    search_param,
)
from ._base import UNSET, APIResource, Unset

if TYPE_CHECKING:  # imported when called: the importer builds on the resources
    from .._importing import ImportReport, ProgressCallback, Row

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
        sort: ContactSort | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        max_items: int | None = None,
    ) -> AsyncPaginator[Contact]:
        """Every contact, newest first (``sort="createdAt_desc"``) or by name (``"name_asc"``).

        ``search`` matches part of the name or phone; an empty one (a web form's blank field)
        filters nothing. ``limit`` is the page size (100 by default), ``cursor`` resumes a
        walk (an empty one starts it), ``max_items`` caps it.
        """
        params: dict[str, str | int] = {**search_param(search)}
        if sort is not None:
            params["sort"] = check_sort(sort)
        return self._paginate(
            _PATH, Contact, ("contacts",), params, limit=limit, cursor=cursor, max_items=max_items
        )

    async def export(
        self,
        output: ExportOutput,
        *,
        format: ExportFormat = "ndjson",
        state_file: str | os.PathLike[str] | None = None,
        search: str | None = None,
        by_alias: bool = False,
        limit: int | None = None,
        on_progress: ExportCallback | None = None,
    ) -> ExportReport:
        """Write every contact, newest first, to ``output``: a path, or an open file such as
        ``sys.stdout``. One page is in memory at a time.

        ``format`` is ``"ndjson"`` (a ``to_dict()`` per line) or ``"csv"`` (a header row, tags
        and meta as JSON); ``by_alias`` writes camelCase keys. ``search`` and ``limit`` (the
        page size) are those of ``list``. With ``state_file``, where the export stands is
        saved after each page, and a re-run with the same file resumes there: each contact is
        written once, even after a crash. ``on_progress`` (a function or coroutine function)
        gets an ``ExportProgress`` after each page. A bad argument raises
        ``InvalidInputError`` naming it before any request.
        """
        return await export_list(
            lambda cursor: self.list(search=search, limit=limit, cursor=cursor),
            output,
            model=Contact,
            source="contacts",
            format=format,
            state_file=state_file,
            search=search,
            by_alias=by_alias,
            on_progress=on_progress,
            clock=self._transport.clock,
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
        take five minutes of clock skew). Otherwise ``ConflictError`` is raised, with
        ``existing_id`` and ``is_replay`` set.
        """
        body: dict[str, Any] = {"name": check_name(name), "phone": check_phone(phone)}
        if tags is not None:
            body["tags"] = check_tags(tags)
        if meta is not None:
            body["meta"] = check_meta(meta)
        # The first attempt is awaited here, not in a shared helper: one coroutine less on
        # every create. Only a 409 needs the rest.
        started = time.time()  # earlier than the first attempt leaves: only more lenient
        try:
            return await self._call(
                "POST", _PATH, _decode_contact, body=body, resend_after_unknown_outcome=True
            )
        except ConflictError as conflict:
            phone = body["phone"]
            return await self._replayed_create(
                conflict,
                body,
                started,
                fetch=self.get,
                candidates=lambda: self.list(search=phone),
                holds_value=lambda contact: contact.phone == phone,
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

    async def import_many(
        self,
        rows: Iterable[Row] | AsyncIterable[Row],
        *,
        on_existing: Literal["skip", "update", "fail"] = "skip",
        group_id: str | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        concurrency: int = 8,
        total: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> ImportReport:
        """Create a contact for each of ``rows``; return what was done.

        A row is a mapping (``name``, ``phone``, optional ``tags`` and ``meta``; other keys
        are ignored) or a ``ContactInput``, from a sync or async iterable, read as the
        import goes. Rows are numbered from 1. Each is checked as ``create`` checks its
        arguments (``validate_contact`` does the same for a caller): an invalid row is
        reported with its field and reason, and never sent. A phone given by an earlier row
        is not sent again (a duplicate). A phone that exists on the server is reported with
        its ``existing_id`` and, by ``on_existing``, left as it is (``"skip"``), updated with
        the row's name, tags and meta (``"update"``), or counted as failed (``"fail"``).
        A row the server refuses (400, 422; 404 on update) fails alone.

        ``concurrency`` workers create contacts together, at the client's request rate.
        With ``group_id`` (checked first: a wrong id stops the import before any row), every
        contact created or found is added to the group, by member-add jobs of up to 10,000
        ids started as ids come in, all awaited before this returns.

        ``checkpoint`` names a SQLite file recording each phone's outcome as it comes: a
        re-run with it, after a crash or Ctrl-C, skips the rows done (``resumed``) without a
        request, sends the failed rows again, and never creates a contact twice (a contact a
        crash left unacknowledged counts as ``created``). It belongs to one key, server and
        group. Without one, a temporary file holds the phones seen, deleted at the end.

        ``on_progress`` (a function or coroutine function) gets an ``ImportProgress`` at most
        every 0.1 s and once at the end; ``total``, the rows expected, lets it estimate the
        time left. Any error other than a row's (the key, a quota, the connection after the
        retries) stops the import: rows in flight finish, and ``ImportAbortedError`` is
        raised with the ``report`` so far.
        """
        from .._importing import import_rows
        from .groups import GroupsResource

        return await import_rows(
            self,
            GroupsResource(self._transport, self._options, self._jobs),
            rows,
            create=lambda contact: self.create(
                name=contact.name,
                phone=contact.phone,
                tags=contact.tags or None,
                meta=contact.meta or None,
            ),
            on_existing=on_existing,
            group_id=group_id,
            checkpoint=checkpoint,
            concurrency=concurrency,
            total=total,
            on_progress=on_progress,
            workspace=self._transport.key_fingerprint,
            rate=self._transport.limiter.rate,
            clock=self._transport.clock,
        )
