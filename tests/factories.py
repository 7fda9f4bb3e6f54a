"""factory_boy factories. Tenant-owned objects must be built inside ``tenant_context``."""

import itertools

import factory

from tenants.models import Contact, Customer, CustomerKind, Membership, Tenant, User
from tenants.permissions import Role
from tenants.validation import made_up_org_number

_numbers = itertools.count(1000)


def org_number() -> str:
    return made_up_org_number(next(_numbers) * 7919)


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    slug = factory.Sequence(lambda n: f"vendor-{n}")
    name = factory.Sequence(lambda n: f"Vendor {n} AS")
    org_number = factory.LazyFunction(org_number)
    bank_account = "86011117947"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.no")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.django.Password("correct-horse-battery")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Kunde {n} AS")
    org_number = factory.LazyFunction(org_number)
    kind = CustomerKind.COMPANY
    address_line = "Storgata 1"
    postal_code = "0155"
    city = "Oslo"
    invoice_email = factory.Sequence(lambda n: f"faktura{n}@kunde.no")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Kontakt {n}")
    email = factory.Sequence(lambda n: f"kontakt{n}@kunde.no")
