"""Who may use the registry over HTTP: admins and device admins write, planners read too."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from devices.paging import PageIn
from tickets.api.deps import DeviceAdminUser, require_roles
from tickets.users.models import Role, User

RegistryReader = Annotated[
    User, Depends(require_roles(Role.ADMIN, Role.PLANNER, Role.DEVICE_ADMIN))
]
RegistryWriter = DeviceAdminUser
PageQuery = Annotated[PageIn, Query()]
