"""Every endpoint through the SDK against the local server, over a real socket."""

from __future__ import annotations

import traceback
from datetime import datetime, timezone

import pytest

from msgflash_async import (
    AddMembersResult,
    AuthenticationError,
    BulkDeleteResult,
    ConflictError,
    Contact,
    MaxContactGroupsReachedError,
    MsgFlash,
    NotFoundError,
    PermissionDeniedError,
    RemoveMembersResult,
    ValidationError,
)
from msgflash_async.testing import LocalMsgFlash


async def test_contact_lifecycle(sdk: MsgFlash, server: LocalMsgFlash) -> None:
    created = await sdk.contacts.create(
        name="Awa Doe", phone="+33612345000", tags=["vip"], meta={"city": "Cotonou"}
    )
    assert isinstance(created, Contact)
    assert (created.name, created.phone, created.tags) == ("Awa Doe", "+33612345000", ("vip",))
    assert created.meta == {"city": "Cotonou"}
    assert created.created_at is not None
    assert created.created_at.tzinfo is not None
    assert abs(created.created_at - datetime.now(timezone.utc)).total_seconds() < 60

    assert await sdk.contacts.get(created.id) == created

    updated = await sdk.contacts.update(created.id, tags=[], meta={"city": "Lomé"})
    assert updated.tags == ()
    assert updated.meta == {"city": "Lomé"}
    assert updated.name == "Awa Doe"
    assert updated.updated_at is not None
    assert created.updated_at is not None
    assert updated.updated_at > created.updated_at

    await sdk.contacts.delete(created.id)
    assert created.id not in server.workspace().contacts
    with pytest.raises(NotFoundError) as caught:
        await sdk.contacts.get(created.id)
    assert caught.value.code == "NOT_FOUND"
    assert caught.value.request_id


async def test_duplicate_phone_is_a_conflict_naming_the_existing_contact(sdk: MsgFlash) -> None:
    first = await sdk.contacts.create(name="Awa", phone="+33612345000")
    with pytest.raises(ConflictError) as caught:
        await sdk.contacts.create(name="Other", phone="+33612345000")
    assert caught.value.existing_id == first.id
    assert not caught.value.is_replay


async def test_list_contacts_search_and_sort(sdk: MsgFlash, server: LocalMsgFlash) -> None:
    for name, phone in [("Zoe", "+33600000001"), ("awa", "+33600000002"), ("Bob", "+22900000003")]:
        await sdk.contacts.create(name=name, phone=phone)
    newest_first = [contact.name async for contact in sdk.contacts.list()]
    assert newest_first == ["Bob", "awa", "Zoe"]
    by_name = [contact.name async for contact in sdk.contacts.list(sort="name_asc")]
    assert by_name == ["awa", "Bob", "Zoe"]
    page = await sdk.contacts.list(search="336").first_page()
    assert {contact.name for contact in page.items} == {"Zoe", "awa"}
    assert page.total == 2
    assert not page.has_more
    assert page.request_id


async def test_group_lifecycle_and_members(sdk: MsgFlash, server: LocalMsgFlash) -> None:
    contacts = server.workspace().seed_contacts(3)
    group = await sdk.groups.create(name="VIP clients", description="Best", color="#F59E0B")
    assert (group.contact_count, group.color, group.description) == (0, "#F59E0B", "Best")

    added = await (await sdk.groups.add_members(group.id, [c.id for c in contacts] + ["nope"]))
    assert added == AddMembersResult(added=3, already_in_group=0, not_found=1, total=4)
    again = await (await sdk.groups.add_members(group.id, [contacts[0].id]))
    assert again == AddMembersResult(added=0, already_in_group=1, not_found=0, total=1)

    members = [member async for member in sdk.groups.members(group.id)]
    assert [member.id for member in members] == [c.id for c in contacts]
    assert all(member.added_at is not None for member in members)
    assert [g.id for g in await sdk.contacts.groups(contacts[0].id)] == [group.id]

    removed = await (await sdk.groups.remove_members(group.id, [contacts[0].id, "nope"]))
    assert removed == RemoveMembersResult(removed=1, not_in_group=1)
    assert (await sdk.groups.get(group.id)).contact_count == 2

    updated = await sdk.groups.update(group.id, description=None, color="#25d366")
    assert (updated.description, updated.color, updated.name) == (None, "#25d366", "VIP clients")
    assert [g.name async for g in sdk.groups.list(search="vip")] == ["VIP clients"]

    await sdk.groups.delete(group.id)
    assert set(server.workspace().contacts) == {c.id for c in contacts}
    with pytest.raises(NotFoundError):
        await sdk.groups.get(group.id)


async def test_inline_bulk_delete_lists_the_ids_not_found(
    sdk: MsgFlash, server: LocalMsgFlash
) -> None:
    contacts = server.workspace().seed_contacts(2)
    handle = await sdk.contacts.bulk_delete([contacts[0].id, "missing", contacts[1].id])
    assert handle.done
    assert handle.id is None
    assert await handle == BulkDeleteResult(
        requested=3, deleted=2, not_found=1, not_found_ids=("missing",)
    )
    assert server.workspace().contacts == {}


async def test_group_name_conflict_and_plan_limit(sdk: MsgFlash, server: LocalMsgFlash) -> None:
    server.workspace().max_contact_groups = 2
    first = await sdk.groups.create(name="Alpha")
    with pytest.raises(ConflictError) as conflict:
        await sdk.groups.create(name="ALPHA")
    assert conflict.value.existing_id == first.id
    await sdk.groups.create(name="Beta")
    with pytest.raises(MaxContactGroupsReachedError) as limit:
        await sdk.groups.create(name="Gamma")
    assert isinstance(limit.value, PermissionDeniedError)
    assert limit.value.status == 403


async def test_a_bad_cursor_is_the_servers_validation_error(sdk: MsgFlash) -> None:
    with pytest.raises(ValidationError) as caught:
        await sdk.contacts.list(cursor="not-a-cursor").first_page()
    assert caught.value.details == [
        {"field": "cursor", "message": caught.value.details[0]["message"]}
    ]
    assert caught.value.cursor == "not-a-cursor"


async def test_unknown_key_is_an_authentication_error(server: LocalMsgFlash) -> None:
    async with MsgFlash("msgf_live_" + "f" * 64, base_url=server.base_url) as stranger:
        with pytest.raises(AuthenticationError) as caught:
            await stranger.contacts.list().first_page()
    assert caught.value.status == 401
    assert caught.value.code == "UNAUTHORIZED"


async def test_team_key_reaches_the_team_workspace(server: LocalMsgFlash) -> None:
    team_id = "5b0e9a1c-2d3f-4a5b-8c7d-9e0f1a2b3c4d"
    workspace = server.add_team_key("msgf_team_secret", team_id)
    workspace.seed_contacts(2)
    async with MsgFlash("msgf_team_secret", base_url=server.base_url, team_id=team_id) as team:
        assert len(await team.contacts.list().collect(limit=10)) == 2
    async with MsgFlash(
        "msgf_team_secret", base_url=server.base_url, team_id="00000000-0000-4000-8000-000000000000"
    ) as wrong_team:
        with pytest.raises(AuthenticationError):
            await wrong_team.contacts.list().first_page()


async def test_jobs_list_get_and_progress(sdk: MsgFlash, server: LocalMsgFlash) -> None:
    contacts = server.workspace().seed_contacts(150)
    handle = await sdk.contacts.bulk_delete([c.id for c in contacts])
    assert handle.id is not None
    listed = [job async for job in sdk.jobs.list()]
    assert [job.id for job in listed] == [handle.id]
    job = await sdk.jobs.get(handle.id)
    assert (job.status, job.requested_count, job.processed_count) == ("pending", 150, 0)
    server.advance_jobs(1)
    progress = await sdk.jobs.progress(handle.id)
    assert progress.status == "done"
    assert progress.progress == 100
    assert progress.summary == {"deleted": 150, "notFound": 0}
    assert progress.completed_at is not None


async def test_tracebacks_that_print_local_variables_never_show_the_key(
    server: LocalMsgFlash,
) -> None:
    server.revoke_key(server.api_key)
    async with MsgFlash(server.api_key, base_url=server.base_url) as revoked:
        with pytest.raises(AuthenticationError) as caught:
            await revoked.contacts.create(name="Awa", phone="+33612345000")
    rendered = "".join(
        traceback.TracebackException.from_exception(caught.value, capture_locals=True).format()
    )
    assert server.api_key not in rendered
