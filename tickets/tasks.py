from celery import shared_task

from audit.services import RequestMeta

from . import services


@shared_task
def service_requests_expire_unconfirmed() -> int:
    return services.service_requests_expire_unconfirmed()


@shared_task
def service_requests_alert_overdue() -> int:
    return services.service_requests_alert_overdue()


@shared_task
def elevations_complete_due() -> int:
    return services.elevations_complete_due()


@shared_task
def domain_proofs_look_up() -> int:
    return services.domain_proofs_look_up()


@shared_task
def audit_head_publish() -> str:
    return services.audit_head_publish()


@shared_task
def audit_log_check() -> bool:
    return services.audit_log_check().ok


@shared_task
def service_requests_purge_expired() -> int:
    return len(services.service_requests_purge_expired())


@shared_task
def tracking_link_send(reference: str, email: str, ip_address: str | None, user_agent: str) -> None:
    services.service_request_send_tracking_link(
        reference=reference, email=email, meta=RequestMeta(ip_address=ip_address, user_agent=user_agent)
    )
