"""The 19 endpoint handlers (§2). Each validates, looks up, then acts, in the order of §4.2."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from ._index import Key
from ._jobs import JobRunner
from ._json import JSONObject, JSONValue
from ._listing import ListSpec, Source, page
from ._models import OUTCOMES, Contact, JobFormat, Operation
from ._validation import ListQuery, contact_changes, contact_ids, group_changes, list_query, no_body
from ._workspace import Workspace

ASYNC_THRESHOLD = 100
"""Bulk requests with this many distinct ids or more become jobs (§1.7)."""

_CONTACTS = ListSpec("contacts", 50, sorts=("createdAt_desc", "name_asc"))
_GROUPS = ListSpec("groups", 50)
_MEMBERS = ListSpec("members", 50)
_JOBS = ListSpec("jobs", 20, searchable=False, with_total=False)


@attrs.frozen
class Call:
    """One authenticated, admitted request to a matched route."""

    workspace: Workspace
    jobs: JobRunner
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes
    job_format: JobFormat

    def list_query(self, spec: ListSpec, kind: Callable[[str], str]) -> ListQuery:
        """The validated query of a list endpoint (which takes no body)."""
        return list_query(
            self.query,
            self.body,
            default_limit=spec.default_limit,
            searchable=spec.searchable,
            sorts=spec.sorts,
            kind=kind,
        )


Reply = tuple[int, JSONValue]
"""The status and the ``data`` of a success."""

Handler = Callable[[Call], Reply]


def _contact_texts(contact: Contact) -> tuple[str | None, ...]:
    return (contact.name, contact.phone)


def _deleted(resource_id: str) -> Reply:
    return 200, {"id": resource_id, "deleted": True}


# Contacts


def list_contacts(call: Call) -> Reply:
    """C1."""
    query = call.list_query(_CONTACTS, lambda sort: f"contacts.{sort}")
    ws = call.workspace
    by_name = query.sort == "name_asc"
    source = Source(
        kind=f"contacts.{query.sort}",
        index=ws.contacts_by_name if by_name else ws.contacts_by_created,
        descending=not by_name,
        render=lambda key: ws.contacts[key[1]].to_json(),
        texts=lambda key: _contact_texts(ws.contacts[key[1]]),
    )
    return 200, page(ws, _CONTACTS, query, source)


def create_contact(call: Call) -> Reply:
    """C2."""
    fields = contact_changes(call.body, create=True)
    contact = call.workspace.add_contact(
        fields["name"], fields["phone"], tags=fields.get("tags", ()), meta=fields.get("meta")
    )
    return 201, contact.to_json()


def get_contact(call: Call) -> Reply:
    """C3."""
    no_body(call.body)
    return 200, call.workspace.contact(call.params["id"]).to_json()


def update_contact(call: Call) -> Reply:
    """C4."""
    fields = contact_changes(call.body, create=False)
    ws = call.workspace
    return 200, ws.update_contact(ws.contact(call.params["id"]), **fields).to_json()


def delete_contact(call: Call) -> Reply:
    """C5."""
    no_body(call.body)
    contact = call.workspace.contact(call.params["id"])
    call.workspace.delete_contact(contact.id)
    return _deleted(contact.id)


def bulk_delete_contacts(call: Call) -> Reply:
    """C6."""
    return _bulk(call, "bulk_delete_contacts", None)


def groups_of_contact(call: Call) -> Reply:
    """C7."""
    no_body(call.body)
    contact = call.workspace.contact(call.params["id"])
    return 200, [group.to_json() for group in call.workspace.groups_of(contact.id)]


# Bulk jobs


def list_jobs(call: Call) -> Reply:
    """J1."""
    query = call.list_query(_JOBS, lambda _: "jobs")
    ws = call.workspace
    source = Source(
        kind="jobs",
        index=ws.jobs_by_created,
        descending=True,
        render=lambda key: call.job_format.job(ws.jobs[key[1]]),
        texts=lambda _: (),
    )
    return 200, page(ws, _JOBS, query, source)


def get_job(call: Call) -> Reply:
    """J2."""
    no_body(call.body)
    return 200, call.job_format.job(call.workspace.job(call.params["jobId"]))


def job_progress(call: Call) -> Reply:
    """J3: the J2 body unless the server is set to answer less."""
    no_body(call.body)
    return 200, call.job_format.progress(call.workspace.job(call.params["jobId"]))


def cancel_job(call: Call) -> Reply:
    """J4."""
    no_body(call.body)
    ws = call.workspace
    return 200, call.job_format.job(ws.cancel_job(ws.job(call.params["jobId"])))


# Contact groups


def list_groups(call: Call) -> Reply:
    """G1."""
    query = call.list_query(_GROUPS, lambda _: "groups")
    ws = call.workspace

    def texts(key: Key) -> tuple[str | None, ...]:
        group = ws.groups[key[1]]
        return (group.name, group.description)

    source = Source(
        kind="groups",
        index=ws.groups_by_created,
        descending=False,
        render=lambda key: ws.groups[key[1]].to_json(),
        texts=texts,
    )
    return 200, page(ws, _GROUPS, query, source)


def create_group(call: Call) -> Reply:
    """G2."""
    fields = group_changes(call.body, create=True)
    ws = call.workspace
    ws.check_group_limit()
    group = ws.add_group(
        fields["name"], description=fields.get("description"), color=fields.get("color")
    )
    return 201, group.to_json()


def get_group(call: Call) -> Reply:
    """G3."""
    no_body(call.body)
    return 200, call.workspace.group(call.params["groupId"]).to_json()


def update_group(call: Call) -> Reply:
    """G4."""
    fields = group_changes(call.body, create=False)
    ws = call.workspace
    return 200, ws.update_group(ws.group(call.params["groupId"]), **fields).to_json()


def delete_group(call: Call) -> Reply:
    """G5."""
    no_body(call.body)
    group = call.workspace.group(call.params["groupId"])
    call.workspace.delete_group(group.id)
    return _deleted(group.id)


def add_members(call: Call) -> Reply:
    """G6."""
    return _bulk(call, "add_to_group", call.params["groupId"])


def remove_members(call: Call) -> Reply:
    """G7."""
    return _bulk(call, "remove_from_group", call.params["groupId"])


def list_members(call: Call) -> Reply:
    """G8."""
    group_id = call.params["groupId"]
    kind = f"members.{group_id}"
    query = call.list_query(_MEMBERS, lambda _: kind)
    ws = call.workspace
    group = ws.group(group_id)

    def render(key: Key) -> JSONObject:
        return {**ws.contacts[key[1]].to_json(), "addedAt": key[0]}

    source = Source(
        kind=kind,
        index=group.member_index,
        descending=False,
        render=render,
        texts=lambda key: _contact_texts(ws.contacts[key[1]]),
    )
    return 200, page(ws, _MEMBERS, query, source)


# Bulk operations


def _bulk(call: Call, operation: Operation, group_id: str | None) -> Reply:
    """C6, G6 and G7: inline below ``ASYNC_THRESHOLD`` distinct ids, else a job."""
    ids = list(dict.fromkeys(contact_ids(call.body)))
    ws = call.workspace
    if group_id is not None:
        ws.group(group_id)
    if len(ids) >= ASYNC_THRESHOLD:
        job = ws.start_job(operation, group_id, ids)
        call.jobs.submit(ws, job)
        return 202, job.accepted_json()
    outcomes = [ws.apply(operation, group_id, contact_id) for contact_id in ids]
    counts: JSONObject = {key: outcomes.count(key) for key in OUTCOMES[operation]}
    if operation == "bulk_delete_contacts":
        not_found: list[JSONValue] = [
            contact_id
            for contact_id, outcome in zip(ids, outcomes, strict=True)
            if outcome == "notFound"
        ]
        return 200, {"requested": len(ids), "deleted": counts["deleted"], "notFound": not_found}
    if operation == "add_to_group":
        counts["total"] = len(ids)
    return 200, counts
