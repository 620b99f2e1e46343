"""get.api_keys: API keys' metadata (never their secrets), with the Admin API's rights."""

from __future__ import annotations

from cabinet.apis.data.registry import DIRECTORY_READER, FieldSpec, get_method, register
from cabinet.core.query import FieldType as T
from cabinet.domains.credentials.repository import KEY_CATALOG

FIELDS = (
    FieldSpec("id", T.INTEGER, "Key id.", read=lambda k: k.row.id),
    FieldSpec("user_id", T.INTEGER, "Owner's user id.", read=lambda k: k.row.user_id),
    FieldSpec("login", T.STRING, "Owner's login.", read=lambda k: k.username),
    FieldSpec("company_id", T.INTEGER, "Owner's company id.", read=lambda k: k.row.company_id),
    FieldSpec("name", T.STRING, "Label given at issue.", read=lambda k: k.row.name),
    FieldSpec(
        "prefix",
        T.STRING,
        "The public prefix: cab_ and the key's id (keys issued before: the part before the dot).",
        read=lambda k: k.row.prefix,
    ),
    FieldSpec("is_permanent", T.BOOLEAN, "No end date.", read=lambda k: k.row.expires_at is None),
    FieldSpec("expire_date", T.DATETIME, "End of a temporary key.", read=lambda k: k.row.expires_at),
    FieldSpec("is_blocked", T.BOOLEAN, "Blocked.", read=lambda k: k.row.blocked),
    FieldSpec("creation_date", T.DATETIME, "Issued.", read=lambda k: k.row.created_at),
    FieldSpec("last_used_date", T.DATETIME, "Last use (to the minute).", read=lambda k: k.row.last_used_at),
    FieldSpec(
        "last_used_address", T.STRING, "The address of that last use.", default=False, read=lambda k: k.row.last_used_ip
    ),
)

register(
    get_method(
        "get.api_keys",
        "Permanent and temporary API keys (metadata; the secret is shown once at issue and never kept): every "
        "company's for ADMIN, OVERLORD, SUPPORT, your company's for a COMPANYOWNER.",
        rights=DIRECTORY_READER,
        catalog=KEY_CATALOG,
        search=lambda s: s.credentials.search_keys,
        fields=FIELDS,
    )
)
