"""Errors of the contractor domain. The contractor API maps each mnemonic to the seed's ErrorDTO code."""

from __future__ import annotations

from cabinet.core.errors import CabinetError, ErrorKind


class ContractorUserExists(CabinetError):
    mnemonic = "contractor_user_exists"
    kind = ErrorKind.CONFLICT
    default_message = "A user with this userName already exists"


class ContractorUserInvalid(CabinetError):
    mnemonic = "contractor_user_invalid"
    kind = ErrorKind.INVALID
    default_message = "Invalid user data"


class ContractorUserNotFound(CabinetError):
    mnemonic = "contractor_user_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "User not found"


class SignInFailed(CabinetError):
    mnemonic = "contractor_sign_in_failed"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "Wrong user name or password"


class SaltReused(CabinetError):
    mnemonic = "contractor_salt_reused"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "This salt was already used: every sign-in needs a new one"


class SignInLocked(CabinetError):
    mnemonic = "contractor_sign_in_locked"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "The user is locked"


class SignInThrottled(CabinetError):
    mnemonic = "contractor_sign_in_throttled"
    kind = ErrorKind.THROTTLED
    default_message = "Too many failed sign-ins: try again later"


class TargetUserLocked(CabinetError):
    mnemonic = "contractor_target_user_locked"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "The user is locked"


class ServiceTokenInvalid(CabinetError):
    mnemonic = "contractor_service_token_invalid"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "The service token is invalid, expired, spent or revoked"


class CallerNotAllowed(CabinetError):
    mnemonic = "contractor_caller_not_allowed"
    kind = ErrorKind.FORBIDDEN
    default_message = "This operation is not for this kind of caller"


class CallNotFound(CabinetError):
    mnemonic = "call_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "Call not found"


class CallOwnerNotFound(CabinetError):
    mnemonic = "call_owner_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "The owner (contractor user) was not found"


class CallInvalid(CabinetError):
    mnemonic = "call_invalid"
    kind = ErrorKind.INVALID
    default_message = "Invalid call data"


class CommentRequired(CabinetError):
    mnemonic = "call_comment_required"
    kind = ErrorKind.INVALID
    default_message = "This status change needs a comment"


class CallStatusChangeRefused(CabinetError):
    mnemonic = "call_status_change_refused"
    kind = ErrorKind.CONFLICT
    default_message = "The call cannot change to that status"


class CallStateConflict(CabinetError):
    mnemonic = "call_state_conflict"
    kind = ErrorKind.CONFLICT
    default_message = "The call's status does not allow this"


class JeopardyRefused(CabinetError):
    mnemonic = "call_jeopardy_refused"
    kind = ErrorKind.CONFLICT
    default_message = "A jeopardy cannot be raised on this call now"


class UnjeopardyRefused(CabinetError):
    mnemonic = "call_unjeopardy_refused"
    kind = ErrorKind.CONFLICT
    default_message = "The call has no open jeopardy"


class CallTaskNotFound(CabinetError):
    mnemonic = "call_task_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "Call task not found"


class TaskResultNotFound(CabinetError):
    mnemonic = "call_task_result_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "The task has no result (it is not Done)"


class TaskStatusChangeRefused(CabinetError):
    mnemonic = "call_task_status_change_refused"
    kind = ErrorKind.CONFLICT
    default_message = "The task cannot change to that status"


class NotificationNotFound(CabinetError):
    mnemonic = "notification_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "Notification not found"


class SettingsInvalid(CabinetError):
    mnemonic = "contractor_settings_invalid"
    kind = ErrorKind.INVALID
    default_message = "callCostDeadlineDayOfMonth must be 1..28"


class TaskStateConflict(CabinetError):
    mnemonic = "call_task_state_conflict"
    kind = ErrorKind.CONFLICT
    default_message = "The task's status does not allow this"


# --- field links (templink, /shared) ------------------------------------------------------------------------
class FieldLinkNotFound(CabinetError):
    mnemonic = "field_link_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "No call is reachable with this link"


class FieldLinkExpired(CabinetError):
    mnemonic = "field_link_expired"
    kind = ErrorKind.NOT_FOUND
    default_message = "The link has expired or was replaced by a newer one: ask the contractor for a new link"


class FieldLinkOtherCall(CabinetError):
    mnemonic = "field_link_other_call"
    kind = ErrorKind.FORBIDDEN
    default_message = "The link belongs to another call"


class FieldReportInvalid(CabinetError):
    mnemonic = "field_report_invalid"
    kind = ErrorKind.INVALID
    default_message = "Invalid field report"


class VisitNotOpen(CabinetError):
    mnemonic = "field_visit_not_open"
    kind = ErrorKind.CONFLICT
    default_message = "There is no open visit to check out of: check in first"


class VisitAlreadyOpen(CabinetError):
    mnemonic = "field_visit_already_open"
    kind = ErrorKind.CONFLICT
    default_message = "A visit is open: check out before checking in again"


class VisitInvalid(CabinetError):
    mnemonic = "field_visit_invalid"
    kind = ErrorKind.INVALID
    default_message = "Invalid visit"


class SignatureInvalid(CabinetError):
    mnemonic = "field_signature_invalid"
    kind = ErrorKind.INVALID
    default_message = "Invalid signature"


class SignatureNotFound(CabinetError):
    mnemonic = "field_signature_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "Signature not found"


# --- attachments -------------------------------------------------------------------------------------------
class AttachmentNotFound(CabinetError):
    mnemonic = "attachment_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "Attachment not found"


class AttachmentTypeRefused(CabinetError):
    mnemonic = "attachment_type_refused"
    kind = ErrorKind.UNPROCESSABLE
    default_message = "The file is none of the accepted types"


class AttachmentUnreadable(CabinetError):
    mnemonic = "attachment_unreadable"
    kind = ErrorKind.UNPROCESSABLE
    default_message = "The file is damaged or does not decode"


class AttachmentTooLarge(CabinetError):
    mnemonic = "attachment_too_large"
    kind = ErrorKind.UNPROCESSABLE
    default_message = "The file is larger than accepted"


class AttachmentImageTooLarge(CabinetError):
    mnemonic = "attachment_image_too_large"
    kind = ErrorKind.UNPROCESSABLE
    default_message = "The image has more pixels than accepted"


class AttachmentNameInvalid(CabinetError):
    mnemonic = "attachment_name_invalid"
    kind = ErrorKind.UNPROCESSABLE
    default_message = "The file name is not acceptable"


# --- cost estimates (contractor API codes: 404 1 call, 2 estimate, 3 expense, 4 material; 400/409 ours) -------
class CostNotFound(CabinetError):
    mnemonic = "call_cost_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "The call has no cost estimate"


class CostExpenseNotFound(CabinetError):
    mnemonic = "call_cost_expense_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "Expense not found in the call's cost estimate"


class CostMaterialNotFound(CabinetError):
    mnemonic = "call_cost_material_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "Material not found in the call's cost estimate"


class CostInvalid(CabinetError):
    mnemonic = "call_cost_invalid"
    kind = ErrorKind.INVALID
    default_message = "Invalid cost estimate data"


class CostItemUnknown(CabinetError):
    mnemonic = "call_cost_item_unknown"
    kind = ErrorKind.INVALID
    default_message = "expenditureItemId is not one of the call's availableExpenditureItems"


class CostCreateRefused(CabinetError):
    mnemonic = "call_cost_create_refused"
    kind = ErrorKind.CONFLICT
    default_message = "The cost estimate cannot be created (the call is not Committed or Done, or has one)"


class CostNotDraft(CabinetError):
    mnemonic = "call_cost_not_draft"
    kind = ErrorKind.CONFLICT
    default_message = "The cost estimate was sent: only a Draft can be edited or sent"


class CostDeadlinePassed(CabinetError):
    mnemonic = "call_cost_deadline_passed"
    kind = ErrorKind.CONFLICT
    default_message = "The deadline for editing and sending this cost estimate has passed"


class CostApprovalRefused(CabinetError):
    mnemonic = "call_cost_approval_refused"
    kind = ErrorKind.CONFLICT
    default_message = "Approval statuses can change only while the estimate is InProgress"


class CostChangeRefused(CabinetError):
    mnemonic = "call_cost_change_refused"
    kind = ErrorKind.CONFLICT
    default_message = "The cost estimate cannot change now"
