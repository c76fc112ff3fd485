"""Every action the audit log records, each with the sentence people read in the console and the admin.

The one registry: ``audit_event_record`` refuses an action that is not here, so that a new one is
named, and worded in both languages, before it can be written. The label completes "<who> …".
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    # Service requests
    REQUEST_FILED = "request.filed", _("filed the service request")
    REQUEST_ASSIGNED = "request.assigned", _("assigned the request")
    REQUEST_CONCURRENT = "request.concurrent", _("found another open request for the same company")
    REQUEST_LINKED = "request.linked", _("linked two concurrent requests")
    STATUS_CHANGED = "status.changed", _("changed the request's status")
    TENANT_MATCHED = "tenant.matched", _("matched the request to a tenant")
    TRACKING_LINK_REISSUED = "tracking_link.reissued", _("asked for a new tracking link")
    MESSAGE_PUBLIC = "message.public", _("replied to the requester")
    MESSAGE_INTERNAL = "message.internal", _("added an internal note")
    MESSAGE_REQUESTER = "message.requester", _("sent a reply")
    EVIDENCE_VIEWED = "evidence.viewed", _("opened an evidence file")
    CHECK_RECORDED = "check.recorded", _("recorded a verification check")
    DOMAIN_PROOF_LOOKED_UP = "domain_proof.looked_up", _("looked up the DNS proof")
    ADMIN_BLOCK_OVERRIDDEN = "admin_block.overridden", _("overrode the active-admin block")
    ELEVATION_PROPOSED = "elevation.proposed", _("proposed a new global admin")
    ELEVATION_APPROVED = "elevation.approved", _("approved the elevation; the waiting period started")
    ELEVATION_WAITING_SHORTENED = "elevation.waiting_shortened", _("shortened the waiting period")
    ELEVATION_SENT_BACK = "elevation.sent_back", _("sent the proposal back to review")
    ELEVATION_COMPLETED = "elevation.completed", _("made the new global admin, after the waiting period")
    OBJECTION_RAISED = "objection.raised", _("objected to the request")
    OBJECTION_RESOLVED = "objection.resolved", _("resolved an objection")
    REQUEST_PURGED = "request.purged", _("purged the request's personal data after the retention period")
    REQUEST_EXPORTED = "request.exported", _("exported the request for a data access request")
    # Users, roles and tenants
    USER_CREATED = "user.created", _("created the account")
    USER_INVITED = "user.invited", _("invited a user")
    USER_DEACTIVATED = "user.deactivated", _("deactivated a user")
    USER_REACTIVATED = "user.reactivated", _("turned an account back on")
    USER_CHANGED_BY_SUPPORT = "user.changed_by_support", _("changed the account (support)")
    ROLE_CHANGED = "role.changed", _("changed a role")
    TENANT_SETTINGS_CHANGED = "tenant.settings_changed", _("changed the organisation's settings")
    TENANT_CHANGED_BY_SUPPORT = "tenant.changed_by_support", _("changed the organisation's record (support)")
    TENANT_DEACTIVATED = "tenant.deactivated", _("deactivated the organisation and its accounts (support)")
    SELF_SERVICE_RESET_SCOPE_CHANGED = "self_service_reset.scope_changed", _("chose who may reset their own password")
    # Sign-in, passwords and second factors
    SIGNIN_SUCCEEDED = "signin.succeeded", _("signed in")
    SIGNIN_FAILED = "signin.failed", _("failed to sign in")
    SIGNIN_SECOND_FACTOR_FAILED = "signin.second_factor_failed", _("gave the right password but a wrong second-factor code")
    ACCOUNT_LOCKED = "account.locked", _("locked the account after failed sign-ins")
    ACCOUNT_FROZEN = "account.frozen", _("froze the account")
    ACCOUNT_FREEZE_SENT_TO_SUPPORT = (
        "account.freeze_sent_to_support",
        _("asked to freeze the only global admin; support was alerted instead"),
    )
    ACCOUNT_UNFROZEN = "account.unfrozen", _("unfroze the account")
    PASSWORD_SET = "password.set", _("set a password from an emailed link")
    PASSWORD_SET_BY_SUPPORT = "password.set_by_support", _("set the password (support)")
    PASSWORD_RESET_BY_ADMIN = "password.reset_by_admin", _("reset a user's password")
    PASSWORD_RESET_REQUESTED = "password.reset_requested", _("asked for a password reset")
    PASSWORD_RESET_SELF_SERVICE = "password.reset_self_service", _("reset their own password")
    PASSWORD_RESET_BLOCKED = "password.reset_blocked", _("blocked self-service reset after wrong codes")
    SECOND_FACTOR_ENROLLED = "second_factor.enrolled", _("enrolled an authenticator")
    SECOND_FACTOR_RESET_BY_ADMIN = "second_factor.reset_by_admin", _("required a new second factor")
    BACKUP_CODES_GENERATED = "backup_codes.generated", _("generated backup codes")
    SECURITY_PASSWORD_CHANGED = "security.password_changed", _("changed their password")
    SECURITY_RECOVERY_CHANGED = "security.recovery_changed", _("changed their recovery email or phone")
    SECURITY_BACKUP_CODES_REGENERATED = "security.backup_codes_regenerated", _("regenerated their backup codes")
    SECURITY_SECOND_FACTOR_REPLACED = "security.second_factor_replaced", _("replaced their authenticator")
    # Emails
    OUTBOX_RETRIED = "outbox.retried", _("asked to send a failed email again")
