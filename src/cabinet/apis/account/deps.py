"""Account API dependencies: the caller, the services, the operation being run."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from cabinet.apis.shared.auth import access_token_principal, services
from cabinet.apis.shared.auth import bind_operation as _bind_operation
from cabinet.core.http.metering import metered_operation
from cabinet.core.metering import Service
from cabinet.core.principal import Principal
from cabinet.domains.registry import Services

bind_operation = _bind_operation("account")
current_principal = access_token_principal

ServicesDep = Annotated[Services, Depends(services)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]

# Declares a metered Account operation on a route: operationId, process type, points (docs/architecture.md).
account_operation = metered_operation(Service.ACCOUNT, current_principal)
