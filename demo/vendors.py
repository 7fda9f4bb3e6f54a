"""The five seed vendors (../shared/seeds) as tenants, with their staff.

Org numbers are the seeds' where given (Påvakt AS 937 620 187); the others are valid made-up
numbers. Bank accounts are valid made-up numbers.
"""

DEMO_PASSWORD = "avtale-demo-2026"  # noqa: S105 - printed by the demo on purpose

VENDORS = [
    {
        "slug": "spekter",
        "name": "Læringsmiljøsenteret, Universitetet i Stavanger",
        "org_number": "981279646",
        "mva_registered": True,
        "in_foretaksregisteret": False,
        "address_line": "Kjell Arholms gate 41",
        "postal_code": "4021",
        "city": "Stavanger",
        "bank_account": "32011234568",
        "email": "spekter@uis.example",
        "staff": [
            ("owner", "Ingrid Lunde", "ingrid@spekter.demo"),
            ("admin", "Per Ask", "per@spekter.demo"),
            ("finance", "Kari Nilsen", "kari@spekter.demo"),
            ("sales", "Ola Berg", "ola@spekter.demo"),
            ("support", "Siri Dahl", "siri@spekter.demo"),
            ("viewer", "Viktor Holm", "viktor@spekter.demo"),
        ],
    },
    {
        "slug": "standard-norge",
        "name": "Standard Norge",
        "org_number": "991046348",
        "address_line": "Lysaker Torg 12",
        "postal_code": "1366",
        "city": "Lysaker",
        "bank_account": "15034455667",
        "email": "salg@standard.example",
        "staff": [
            ("owner", "Hanne Strand", "hanne@standard.demo"),
            ("finance", "Jonas Lie", "jonas@standard.demo"),
            ("sales", "Maria Foss", "maria@standard.demo"),
        ],
    },
    {
        "slug": "piscator",
        "name": "Piscator AS",
        "org_number": "931557343",
        "address_line": "Strandkaien 2",
        "postal_code": "5013",
        "city": "Bergen",
        "bank_account": "60129876541",
        "email": "post@piscator.example",
        "staff": [
            ("owner", "Eirik Haugland", "eirik@piscator.demo"),
            ("finance", "Tone Vik", "tone@piscator.demo"),
            ("support", "Lars Sande", "lars@piscator.demo"),
        ],
    },
    {
        "slug": "digireq",
        "name": "Påvakt AS (DigiReq)",
        "org_number": "937620187",
        "address_line": "Karl Johans gate 5",
        "postal_code": "0154",
        "city": "Oslo",
        "bank_account": "86017788991",
        "email": "faktura@digireq.example",
        "staff": [
            ("owner", "Marte Kvam", "marte@digireq.demo"),
            ("finance", "Nils Rud", "nils@digireq.demo"),
            ("support", "Aisha Khan", "aisha@digireq.demo"),
        ],
    },
    {
        "slug": "identum",
        "name": "Identum AS",
        "org_number": "924705507",
        "address_line": "Kjøpmannsgata 10",
        "postal_code": "7013",
        "city": "Trondheim",
        "bank_account": "12541231232",
        "email": "avtale@identum.example",
        "staff": [
            ("owner", "Sindre Moe", "sindre@identum.demo"),
            ("finance", "Lene Aas", "lene@identum.demo"),
            ("support", "Tor Evensen", "tor@identum.demo"),
        ],
    },
]

OPERATOR = ("operator@avtale.demo", "Platform Operator")
