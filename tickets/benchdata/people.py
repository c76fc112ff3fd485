"""Bench data: tenants with their company records and domains, their users and roles, support staff."""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django_countries import countries

from accounts.models import Membership, Tenant, TenantDomain, User

from ..selectors import AGENTS_GROUP, SUPERVISORS_GROUP
from .tables import Timings, reserve_ids

FIRST = [
    "Alex",
    "Sam",
    "Charlie",
    "Dana",
    "Eli",
    "Frankie",
    "Gabi",
    "Harper",
    "Ira",
    "Jules",
    "Kim",
    "Lou",
    "Max",
    "Noa",
    "Olly",
    "Pat",
    "Quinn",
    "Robin",
    "Sky",
    "Toni",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Smith",
    "Jones",
    "Brown",
    "Taylor",
    "Wilson",
]
WORDS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Contoso",
    "Fabrikam",
]
KINDS = ["Logistics", "Health", "Energy", "Software", "Foods", "Capital", "Retail", "Media", "Labs", "Systems"]
FORMS = ["Ltd", "SA", "GmbH", "Inc", "BV", "SAS"]
STREETS = ["rue de la Paix", "Main Street", "Hauptstraße", "Kerkstraat", "Calle Mayor", "Via Roma"]
# Events for people: addresses from the documentation ranges (RFC 5737), a few browsers.
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
)
STAFF_AGENTS, STAFF_SUPERVISORS = 40, 6


def ip(rng: random.Random) -> str:
    return f"{rng.choice(('198.51.100', '203.0.113', '192.0.2'))}.{rng.randint(1, 254)}"


@dataclass
class People:
    """What the requests need to know of the people written: ids, domains, who belongs where."""

    tenant_ids: list[int] = field(default_factory=list)
    tenant_records: list[dict] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    agents: list[tuple[int, str]] = field(default_factory=list)
    supervisors: list[tuple[int, str]] = field(default_factory=list)

    def users_of(self, tenant_index: int) -> list[int]:
        """The users of a tenant: users are dealt to tenants in turn."""
        return self.user_ids[tenant_index :: len(self.tenant_ids)]


def _tenant(rng: random.Random, pk: int, codes: list[str], created: datetime) -> dict:
    name = f"{rng.choice(WORDS)} {rng.choice(KINDS)}"
    slug = name.lower().replace(" ", "-")
    return {
        "id": pk,
        "legal_name": f"{name} {pk} {rng.choice(FORMS)}",
        "partner_id": f"PB-{pk:08d}",
        "primary_domain": f"{slug}-{pk}.example",
        "country": rng.choice(codes),
        "postal_address": f"{rng.randint(1, 200)} {rng.choice(STREETS)}\n{rng.randint(10000, 99999)} City {pk % 977}",
        "phone_on_record": f"+33 1 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
        "self_service_reset_enabled": rng.random() < 0.3,
        "created_at": created - timedelta(days=rng.randint(700, 2000)),
    }


def write_people(
    *, rng: random.Random, timings: Timings, tenants: int, users: int, password: str, moment: datetime, events: list
) -> People:
    """Tenants (each with its company record, some with more domains), users dealt to them in turn (about one
    tenant in twenty without a global admin, one in ten with two), and support staff in their groups.
    Writes one ``signin.succeeded`` event for most global admins (the active-admin checks read them)."""
    people = People()
    codes = [code for code, _name in countries]
    people.tenant_ids = reserve_ids(Tenant, tenants)
    people.tenant_records = [_tenant(rng, pk, codes, moment) for pk in people.tenant_ids]
    timings.copy(Tenant, people.tenant_records, with_id=True)
    domains = []
    for record in people.tenant_records:
        for extra in range(rng.choice((0, 0, 0, 1, 1, 2))):
            domains.append({"tenant_id": record["id"], "domain": f"alt{extra}-{record['primary_domain']}"})
    timings.copy(TenantDomain, domains)

    staff_count = STAFF_AGENTS + STAFF_SUPERVISORS
    ids = reserve_ids(User, users + staff_count)
    people.user_ids, staff_ids = ids[:users], ids[users:]
    rows, memberships = [], []
    for index, pk in enumerate(people.user_ids):
        tenant_index = index % tenants
        tenant = people.tenant_records[tenant_index]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rank = index // tenants  # 0 for the first user dealt to the tenant
        role = Membership.Role.MEMBER
        if rank == 0 and tenant_index % 20 != 7:
            role = Membership.Role.GLOBAL_ADMIN
        elif rank == 1:
            role = Membership.Role.GLOBAL_ADMIN if tenant_index % 10 == 3 else Membership.Role.USER_ADMIN
        joined = tenant["created_at"] + timedelta(days=rng.randint(1, 600))
        rows.append(
            {
                "id": pk,
                "password": password,
                "email": f"{first.lower()}.{last.lower()}.{pk}@{tenant['primary_domain']}",
                "full_name": f"{first} {last}",
                "phone": f"+33 6 {rng.randint(10000000, 99999999)}",
                "preferred_language": "fr" if rng.random() < 0.2 else "en",
                "date_joined": joined,
            }
        )
        memberships.append({"user_id": pk, "tenant_id": tenant["id"], "role": role, "created_at": joined})
        if role == Membership.Role.GLOBAL_ADMIN and rng.random() < 0.8:
            at = moment - timedelta(days=rng.randint(3, 90), seconds=rng.randint(0, 86399))
            after, meta = {"method": "password"}, (ip(rng), rng.choice(USER_AGENTS))
            events.append((at, pk, rows[-1]["email"], "signin.succeeded", "accounts.user", pk, None, {}, after, *meta))
    for n, pk in enumerate(staff_ids):
        supervisor = n >= STAFF_AGENTS
        email = f"{'supervisor' if supervisor else 'agent'}{n}.{pk}@support.example"
        rows.append(
            {
                "id": pk,
                "password": password,
                "email": email,
                "full_name": f"Bench staff {n}",
                "is_staff": True,
                "date_joined": moment - timedelta(days=800),
            }
        )
        (people.supervisors if supervisor else people.agents).append((pk, email))
    timings.copy(User, rows, with_id=True)
    timings.copy(Membership, memberships)
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in (AGENTS_GROUP, SUPERVISORS_GROUP)}
    through = User.groups.through
    through.objects.bulk_create(
        [through(user_id=pk, group_id=groups[AGENTS_GROUP].pk) for pk, _email in people.agents]
        + [through(user_id=pk, group_id=groups[SUPERVISORS_GROUP].pk) for pk, _email in people.supervisors]
    )
    return people
