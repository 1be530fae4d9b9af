"""The resource namespaces a ``MsgFlash`` client hands out."""

from ._base import UNSET, Unset
from .contacts import ContactsResource
from .groups import GroupsResource
from .jobs import JobsResource

__all__ = ["UNSET", "ContactsResource", "GroupsResource", "JobsResource", "Unset"]
