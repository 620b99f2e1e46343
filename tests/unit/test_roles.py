"""The permission table, cell by cell: a change to who may do what must change this test too."""

from __future__ import annotations

import pytest

from cabinet.core.roles import PERMISSIONS, Permission, Role, has_permission, permissions_of

P = Permission
# rows: roles; columns in this order:
COLUMNS = [
    P.ACCOUNT_SELF, P.ADMIN_READ_ALL, P.ADMIN_WRITE_ALL, P.ADMIN_READ_COMPANY, P.ADMIN_WRITE_COMPANY,
    P.GRANT_PLATFORM_ROLES, P.DATA_API, P.DATA_ACT_FOR_CLIENT, P.CONTRACTOR_WORK, P.CONTRACTOR_COMPANY_CALLS,
    P.EXTERNAL_SYSTEM,
]  # fmt: skip
EXPECTED = {
    #                  self rdAll wrAll rdCo wrCo grant data actFor work coCalls ext
    Role.OVERLORD:     [1,   1,    1,    1,   1,   1,    1,   1,     1,   1,      1],
    Role.ADMIN:        [1,   1,    1,    1,   1,   0,    1,   0,     0,   0,      0],
    Role.SUPPORT:      [1,   1,    0,    1,   0,   0,    1,   0,     0,   0,      0],
    Role.COMPANYOWNER: [1,   0,    0,    1,   1,   0,    1,   0,     1,   1,      0],
    Role.PARTNER:      [1,   0,    0,    0,   0,   0,    1,   1,     0,   0,      0],
    Role.USER:         [1,   0,    0,    0,   0,   0,    1,   0,     1,   0,      0],
    Role.CREWMANAGER:  [1,   0,    0,    0,   0,   0,    1,   0,     1,   1,      0],
    Role.CREW:         [1,   0,    0,    0,   0,   0,    0,   0,     1,   0,      0],
    Role.BOT:          [1,   0,    0,    0,   0,   0,    1,   0,     0,   0,      1],
}  # fmt: skip


def test_table_covers_every_role_and_permission() -> None:
    assert set(PERMISSIONS) == set(Role)
    assert set(COLUMNS) == set(Permission)
    assert set(EXPECTED) == set(Role)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("column", range(len(COLUMNS)))
def test_cell(role: Role, column: int) -> None:
    permission = COLUMNS[column]
    assert has_permission([role], permission) is bool(EXPECTED[role][column]), (role, permission)


def test_roles_combine_by_union() -> None:
    combined = permissions_of([Role.USER, Role.BOT])
    assert P.EXTERNAL_SYSTEM in combined and P.CONTRACTOR_WORK in combined
    assert permissions_of([]) == frozenset()


def test_role_enum_matches_published_client() -> None:
    from vrt_lss_account.models.user_role import UserRole

    assert [r.value for r in Role] == [r.value for r in UserRole]
