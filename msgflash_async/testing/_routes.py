"""The route table, matched in the order of §4.1: literal segments before ``{id}``."""

from __future__ import annotations

import re

import attrs

from . import _handlers as h

PREFIX = "/api/v1"


@attrs.frozen
class Route:
    """One endpoint: its name (used by fault configs), method and handler."""

    name: str
    method: str
    handler: h.Handler


_TABLE: list[tuple[str, tuple[Route, ...]]] = [
    (
        "/contacts",
        (
            Route("contacts.list", "GET", h.list_contacts),
            Route("contacts.create", "POST", h.create_contact),
        ),
    ),
    ("/contacts/bulk-delete", (Route("contacts.bulk_delete", "POST", h.bulk_delete_contacts),)),
    ("/contacts/bulk-jobs", (Route("jobs.list", "GET", h.list_jobs),)),
    ("/contacts/bulk-jobs/{jobId}", (Route("jobs.get", "GET", h.get_job),)),
    ("/contacts/bulk-jobs/{jobId}/progress", (Route("jobs.progress", "GET", h.job_progress),)),
    ("/contacts/bulk-jobs/{jobId}/cancel", (Route("jobs.cancel", "POST", h.cancel_job),)),
    (
        "/contacts/groups",
        (
            Route("groups.list", "GET", h.list_groups),
            Route("groups.create", "POST", h.create_group),
        ),
    ),
    (
        "/contacts/groups/{groupId}",
        (
            Route("groups.get", "GET", h.get_group),
            Route("groups.update", "PUT", h.update_group),
            Route("groups.delete", "DELETE", h.delete_group),
        ),
    ),
    (
        "/contacts/groups/{groupId}/members",
        (
            Route("groups.members.list", "GET", h.list_members),
            Route("groups.members.add", "POST", h.add_members),
            Route("groups.members.remove", "DELETE", h.remove_members),
        ),
    ),
    ("/contacts/{id}/groups", (Route("contacts.groups", "GET", h.groups_of_contact),)),
    (
        "/contacts/{id}",
        (
            Route("contacts.get", "GET", h.get_contact),
            Route("contacts.update", "PUT", h.update_contact),
            Route("contacts.delete", "DELETE", h.delete_contact),
        ),
    ),
]


def _compile(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", PREFIX + template))


_COMPILED = [(_compile(template), routes) for template, routes in _TABLE]

ROUTE_NAMES: tuple[str, ...] = tuple(route.name for _, routes in _TABLE for route in routes)
"""Every route name, e.g. ``contacts.create`` or ``groups.members.add``."""


def match_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route and path parameters for a request; None for an unknown path or wrong method.

    The first path template that matches decides: ``PUT /contacts/groups`` is a wrong method
    on the group list, never an update of a contact with the id ``groups``.
    """
    for pattern, routes in _COMPILED:
        found = pattern.fullmatch(path)
        if found is not None:
            for route in routes:
                if route.method == method:
                    return route, found.groupdict()
            return None
    return None
