"""Create the benchmark's tenant on the scratch database: N chargers and the drivers' tokens.

Run by the benchmark in a process of its own, with Django set up on the scratch database:

    python -m bench.seed --tenant bench --prefix BENCH- --count 1000 --password ...
"""

from __future__ import annotations

import argparse


def seed(*, tenant_slug: str, prefix: str, count: int, password: str, tags: list[str]) -> None:
    import django

    django.setup()
    from django.db import transaction

    from chargers import credentials
    from chargers.models import Charger, IdToken
    from cpms import scoping
    from cpms.models import Tenant

    problem = credentials.validate(password)
    if problem:
        raise SystemExit(f"--password: {problem}")
    with transaction.atomic():
        tenant = Tenant.objects.create(slug=tenant_slug, name="Benchmark")
        with scoping.scope(tenant):
            # One INSERT for thousands of chargers; the hash is the one set_password stores.
            Charger.objects.bulk_create(
                [
                    Charger(
                        tenant=tenant,
                        identity=identity(prefix, n),
                        password_hash=credentials.make_hash(password),
                    )
                    for n in range(1, count + 1)
                ],
                batch_size=1000,
            )
            IdToken.objects.bulk_create(
                [IdToken(tenant=tenant, uid=uid, label="benchmark driver") for uid in tags]
            )


def identity(prefix: str, n: int) -> str:
    return f"{prefix}{n:05d}"


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--tags", required=True, help="Comma-separated id tags.")
    options = parser.parse_args()
    seed(
        tenant_slug=options.tenant,
        prefix=options.prefix,
        count=options.count,
        password=options.password,
        tags=options.tags.split(","),
    )


if __name__ == "__main__":
    run()
