"""One workspace's state: contacts, groups, memberships and jobs, with their keyset indexes."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable

from ._clock import Clock, Stamper
from ._errors import ApiError, conflict, not_found
from ._index import SortedKeyList
from ._json import JSONObject
from ._models import OUTCOMES, Contact, Group, Job, Operation, new_id
from ._ratelimit import MonthlyQuota


class Unset(enum.Enum):
    """The type of ``UNSET``: a field left out of an update."""

    UNSET = "UNSET"


UNSET = Unset.UNSET
"""Marks an update field as left out, as opposed to ``None``."""

_TOTALS_CACHE_SIZE = 64


class Workspace:
    """All state of one tenant: a personal key's workspace or a team's shared one.

    The public methods bypass HTTP and validation, so tests can seed and inspect state; they keep
    every invariant of the API (unique phones and group names, exact ``contactCount``, cascades).
    """

    def __init__(
        self, *, clock: Clock, max_contact_groups: int = 10, monthly_quota: int | None = None
    ) -> None:
        self.max_contact_groups = max_contact_groups
        """The plan's contact-group limit; ``-1`` means unlimited."""
        self.quota = MonthlyQuota(monthly_quota, clock)
        self.contacts: dict[str, Contact] = {}
        self.groups: dict[str, Group] = {}
        self.jobs: dict[str, Job] = {}
        self.contacts_by_created = SortedKeyList()
        self.contacts_by_name = SortedKeyList()
        self.groups_by_created = SortedKeyList()
        self.jobs_by_created = SortedKeyList()
        self.stamp = Stamper(clock)
        """Issues this workspace's strictly increasing timestamps."""
        self._phones: dict[str, str] = {}
        self._group_names: dict[str, str] = {}
        self._revision = 0
        self._totals: dict[tuple[str, str], tuple[int, int]] = {}
        self._seeded = 0

    # Lookups

    def contact(self, contact_id: str) -> Contact:
        """The contact ``contact_id``, or 404 ``NOT_FOUND``."""
        found = self.contacts.get(contact_id)
        if found is None:
            raise not_found("Contact not found")
        return found

    def group(self, group_id: str) -> Group:
        """The group ``group_id``, or 404 ``NOT_FOUND``."""
        found = self.groups.get(group_id)
        if found is None:
            raise not_found("Group not found")
        return found

    def job(self, job_id: str) -> Job:
        """The job ``job_id``, or 404 ``NOT_FOUND``."""
        found = self.jobs.get(job_id)
        if found is None:
            raise not_found("Job not found")
        return found

    def members(self, group_id: str) -> list[str]:
        """The member contact ids of a group, in member-list order."""
        return [contact_id for _, contact_id in self.group(group_id).member_index.ascending()]

    def groups_of(self, contact_id: str) -> list[Group]:
        """The groups ``contact_id`` belongs to, in group-list order."""
        return [
            group
            for group in (self.groups[key[1]] for key in self.groups_by_created.ascending())
            if contact_id in group.members
        ]

    def search_total(self, kind: str, needle: str, count: Callable[[], int]) -> int:
        """``count()``, cached until the next change, so a searched walk scans only once."""
        cached = self._totals.get((kind, needle))
        if cached is not None and cached[0] == self._revision:
            return cached[1]
        if len(self._totals) >= _TOTALS_CACHE_SIZE:
            self._totals.clear()
        total = count()
        self._totals[kind, needle] = (self._revision, total)
        return total

    # Contacts

    def add_contact(
        self,
        name: str,
        phone: str,
        *,
        tags: Iterable[str] = (),
        meta: JSONObject | None = None,
    ) -> Contact:
        """Create a contact; 409 ``CONFLICT`` if the phone is taken."""
        self._check_phone_free(phone, None)
        now = self.stamp()
        contact = Contact(new_id(), name, phone, list(tags), meta or {}, now, now)
        self.contacts[contact.id] = contact
        self._phones[phone] = contact.id
        self.contacts_by_created.add(contact.created_key)
        self.contacts_by_name.add(contact.name_key)
        self._revision += 1
        return contact

    def seed_contacts(self, count: int, *, name_prefix: str = "Contact") -> list[Contact]:
        """Create ``count`` contacts named ``"<prefix> 0000001"`` and so on, with unused phones.

        Like every write, each takes the next strictly increasing timestamp, so a million
        contacts seeded in seconds carry ``createdAt`` values spread over 1,000 seconds.
        """
        created: list[Contact] = []
        while len(created) < count:
            self._seeded += 1
            phone = f"+1{2_000_000_000 + self._seeded}"
            if phone not in self._phones:
                created.append(self.add_contact(f"{name_prefix} {self._seeded:07d}", phone))
        return created

    def update_contact(
        self,
        contact: Contact,
        *,
        name: str | Unset = UNSET,
        phone: str | Unset = UNSET,
        tags: list[str] | Unset = UNSET,
        meta: JSONObject | Unset = UNSET,
    ) -> Contact:
        """Change the given fields and refresh ``updatedAt``; 409 if the phone is another's."""
        if not isinstance(phone, Unset):
            self._check_phone_free(phone, contact.id)
            del self._phones[contact.phone]
            self._phones[phone] = contact.id
            contact.phone = phone
        if not isinstance(name, Unset):
            self.contacts_by_name.remove(contact.name_key)
            contact.name = name
            self.contacts_by_name.add(contact.name_key)
        if not isinstance(tags, Unset):
            contact.tags = tags
        if not isinstance(meta, Unset):
            contact.meta = meta
        contact.updated_at = self.stamp()
        self._revision += 1
        return contact

    def delete_contact(self, contact_id: str) -> bool:
        """Delete a contact and its memberships; tell whether it existed."""
        contact = self.contacts.pop(contact_id, None)
        if contact is None:
            return False
        del self._phones[contact.phone]
        self.contacts_by_created.remove(contact.created_key)
        self.contacts_by_name.remove(contact.name_key)
        for group in self.groups.values():
            group.remove_member(contact_id)
        self._revision += 1
        return True

    def _check_phone_free(self, phone: str, owner_id: str | None) -> None:
        existing = self._phones.get(phone)
        if existing is not None and existing != owner_id:
            raise conflict("A contact with this phone already exists", "phone", existing)

    # Groups

    def check_group_limit(self) -> None:
        """403 ``MAX_CONTACT_GROUPS_REACHED`` if no group may be created."""
        limit = self.max_contact_groups
        if limit >= 0 and len(self.groups) >= limit:
            raise ApiError(
                403,
                "MAX_CONTACT_GROUPS_REACHED",
                f"Your plan allows a maximum of {limit} contact groups",
            )

    def add_group(
        self, name: str, *, description: str | None = None, color: str | None = None
    ) -> Group:
        """Create a group; 409 ``CONFLICT`` if the name is taken (case-insensitive).

        The plan limit is checked by ``check_group_limit``, not here, so seeding may exceed it.
        """
        self._check_group_name_free(name, None)
        now = self.stamp()
        group = Group(new_id(), name, description, color, now, now)
        self.groups[group.id] = group
        self._group_names[name.casefold()] = group.id
        self.groups_by_created.add(group.key)
        self._revision += 1
        return group

    def update_group(
        self,
        group: Group,
        *,
        name: str | Unset = UNSET,
        description: str | Unset | None = UNSET,
        color: str | Unset | None = UNSET,
    ) -> Group:
        """Change the given fields and refresh ``updatedAt``; 409 if the name is another's."""
        if not isinstance(name, Unset):
            self._check_group_name_free(name, group.id)
            del self._group_names[group.name.casefold()]
            self._group_names[name.casefold()] = group.id
            group.name = name
        if not isinstance(description, Unset):
            group.description = description
        if not isinstance(color, Unset):
            group.color = color
        group.updated_at = self.stamp()
        self._revision += 1
        return group

    def delete_group(self, group_id: str) -> bool:
        """Delete a group (its contacts stay) and fail its unfinished jobs; tell if it existed."""
        group = self.groups.pop(group_id, None)
        if group is None:
            return False
        del self._group_names[group.name.casefold()]
        self.groups_by_created.remove(group.key)
        for job in self.jobs.values():
            if job.group_id == group_id and not job.is_terminal:
                job.end("failed", self.stamp(), "Group not found")
        self._revision += 1
        return True

    def add_members(self, group_id: str, contact_ids: Iterable[str]) -> dict[str, int]:
        """Add contacts to a group as G6 would; return the outcome counts."""
        return self._apply_all("add_to_group", group_id, contact_ids)

    def remove_members(self, group_id: str, contact_ids: Iterable[str]) -> dict[str, int]:
        """Remove contacts from a group as G7 would; return the outcome counts."""
        return self._apply_all("remove_from_group", group_id, contact_ids)

    def _check_group_name_free(self, name: str, owner_id: str | None) -> None:
        existing = self._group_names.get(name.casefold())
        if existing is not None and existing != owner_id:
            raise conflict("A group with the same name already exists", "name", existing)

    # Bulk operations and jobs

    def apply(self, operation: Operation, group_id: str | None, contact_id: str) -> str:
        """Handle one id as C6, G6 or G7 would now; return its outcome (a summary key)."""
        if operation == "bulk_delete_contacts":
            return "deleted" if self.delete_contact(contact_id) else "notFound"
        assert group_id is not None
        group = self.group(group_id)
        if operation == "remove_from_group":
            removed = group.remove_member(contact_id)
            if removed:
                self._revision += 1
            return "removed" if removed else "notInGroup"
        if contact_id not in self.contacts:
            return "notFound"
        if contact_id in group.members:
            return "alreadyInGroup"
        group.add_member(contact_id, self.stamp())
        self._revision += 1
        return "added"

    def start_job(self, operation: Operation, group_id: str | None, contact_ids: list[str]) -> Job:
        """Record a new ``pending`` job over distinct ``contact_ids``."""
        now = self.stamp()
        job = Job(new_id(), operation, group_id, contact_ids, now, now)
        self.jobs[job.id] = job
        self.jobs_by_created.add(job.key)
        return job

    def run_job_batch(self, job: Job, size: int) -> None:
        """Handle the job's next ``size`` ids, then update its counters, status and times."""
        if job.is_terminal:
            return
        start = job.processed_count
        for contact_id in job.contact_ids[start : start + size]:
            job.summary[self.apply(job.operation, job.group_id, contact_id)] += 1
        job.processed_count = min(start + size, job.requested_count)
        job.status = "processing"
        now = self.stamp()
        job.updated_at = now
        if job.processed_count == job.requested_count:
            job.end("done", now)

    def cancel_job(self, job: Job) -> Job:
        """Cancel an unfinished job, keeping its work; 409 ``CONFLICT`` once it has ended."""
        if job.is_terminal:
            raise conflict(f"Job is already {job.status}")
        job.end("cancelled", self.stamp())
        return job

    def fail_job(self, job_id: str, error: str) -> Job:
        """Make an unfinished job ``failed`` with ``error``, keeping its work."""
        job = self.job(job_id)
        if job.is_terminal:
            raise ValueError(f"the job is already {job.status}")
        job.end("failed", self.stamp(), error)
        return job

    def _apply_all(
        self, operation: Operation, group_id: str, contact_ids: Iterable[str]
    ) -> dict[str, int]:
        self.group(group_id)
        counts = dict.fromkeys(OUTCOMES[operation], 0)
        for contact_id in dict.fromkeys(contact_ids):
            counts[self.apply(operation, group_id, contact_id)] += 1
        return counts
