"""Writes on service requests. Views, admin actions and tasks call these and nothing else."""

from .agents import (  # noqa: F401
    service_request_ask_information,
    service_request_assign,
    service_request_match_tenant,
    service_request_post_message,
    service_request_reject,
    service_requests_link,
)
from .audit_watch import audit_head_publish, audit_log_check  # noqa: F401
from .checks import verification_check_record  # noqa: F401
from .domain_proof import domain_proof_look_up, domain_proofs_look_up  # noqa: F401
from .elevation import (  # noqa: F401
    admin_block_override,
    elevation_approve,
    elevation_complete,
    elevation_propose,
    elevation_send_back,
    elevation_shorten_waiting,
    elevations_complete_due,
)
from .objections import objection_link_for, objection_raise, objection_resolve  # noqa: F401
from .periodic import service_requests_alert_overdue, service_requests_expire_unconfirmed  # noqa: F401
from .purge import service_request_export, service_request_purge_personal_data, service_requests_purge_expired  # noqa: F401
from .requesters import (  # noqa: F401
    AlreadyConfirmed,
    evidence_open,
    service_request_cancel,
    service_request_check_domain,
    service_request_confirm_email,
    service_request_confirmation_used,
    service_request_for_token,
    service_request_requester_reply,
    service_request_send_tracking_link,
    service_request_submit,
    tracking_link_requested,
)
