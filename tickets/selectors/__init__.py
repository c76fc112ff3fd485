"""Reads about service requests. Selectors never write and never import services or the workflow."""

from .checks import Proof, checklist, checks_all_passed, latest_checks, passed_kinds, proof  # noqa: F401
from .export import service_request_export_data  # noqa: F401
from .guardians import (  # noqa: F401
    Recipient,
    admins_signed_in_since,
    block_overridden,
    blocking_admins,
    former_admin_account,
    global_admin_facts,
    open_objections,
    people_to_warn,
    tenants_to_warn,
)
from .requests import (  # noqa: F401
    ComparisonRow,
    comparison,
    concurrent_requests,
    countries_with_requests,
    linked_pairs,
    overdue_q,
    public_timeline,
    requester_can_reply,
    suggested_tenant,
    unlinked_concurrent,
)
from .staff import AGENTS_GROUP, SUPERVISORS_GROUP, staff_role, support_agents, support_supervisors  # noqa: F401
