"""Writes on service requests. Views, admin actions and tasks call these and nothing else."""

from .agents import (  # noqa: F401
    service_request_ask_information,
    service_request_assign,
    service_request_match_tenant,
    service_request_post_message,
    service_request_reject,
    verification_check_record,
)
from .elevation import elevation_approve, elevation_propose, elevation_send_back  # noqa: F401
from .periodic import service_requests_alert_overdue, service_requests_expire_unconfirmed  # noqa: F401
from .requesters import (  # noqa: F401
    evidence_open,
    service_request_cancel,
    service_request_confirm_email,
    service_request_for_token,
    service_request_requester_reply,
    service_request_send_tracking_link,
    service_request_submit,
)
