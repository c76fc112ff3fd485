"""A complete, valid filing of the public form, as plain data (no Django import: the bench's load client
sends it too)."""


def sample_filing(domain: str = "fabrikam.example", **company) -> dict:
    """The public form's fields for a company at ``domain`` whose admin has left; ``company`` overrides
    the company's own fields (legal name, partner id, country, address, phone)."""
    return {
        "company_legal_name": "Fabrikam SARL",
        "company_partner_id": "",
        "company_domain": domain,
        "company_country": "FR",
        "company_address": "12 rue de la Paix\n75002 Paris",
        "company_phone": "+33 1 70 00 00 01",
        **company,
        "requester_name": "Claire Martin",
        "requester_email": f"claire@{domain}",
        "requester_phone": "+33 6 00 00 00 01",
        "requester_job_title": "Office manager",
        "former_admin_name": "Marc Ancien",
        "former_admin_email": f"marc@{domain}",
        "former_admin_reason": "left_company",
        "former_admin_details": "Left in September.",
        "elevate_email": f"luc@{domain}",
        "elevate_name": "Luc Bernard",
        "reason": "Nobody can manage our users since Marc left.",
        "consent": "on",
    }
