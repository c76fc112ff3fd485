from celery import shared_task

from . import services


@shared_task
def service_requests_expire_unconfirmed() -> int:
    return services.service_requests_expire_unconfirmed()


@shared_task
def service_requests_alert_overdue() -> int:
    return services.service_requests_alert_overdue()
