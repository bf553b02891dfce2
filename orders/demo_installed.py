"""Demo data of the installed base: a pool of free resources per region for the demo command (not a
migration: production inventory comes from the network's resource system, not from us)."""

from orders.models import Resource

# Rows per region and kind; identifiers say region and kind so a demo user can tell them apart.
POOL = {
    Resource.Kind.CIRCUIT: ("CIR", 40),
    Resource.Kind.IP_BLOCK: ("IP", 20),
    Resource.Kind.NUMBER_BLOCK: ("NUM", 10),
    Resource.Kind.PORT: ("PORT", 10),
}


def _identifier(kind: str, region_code: str, n: int) -> str:
    if kind == Resource.Kind.IP_BLOCK:
        # 10.<city>.<n>.0/29: private space, unique per city and row
        return f"10.{int(region_code[2:4])}.{n}.0/29"
    if kind == Resource.Kind.NUMBER_BLOCK:
        return f"{region_code}-{n:04d}xxxx"
    prefix, _count = POOL[kind]
    return f"{prefix}-{region_code}-{n:05d}"


def seed_resource_pool(region_codes, *, scale: float = 1.0, counts: dict[tuple[str, str], int] | None = None) -> int:
    """Free rows of every kind for each region (city codes); rows already there are left alone, so running it
    twice adds nothing. `counts` ((city, kind) -> rows) sizes each city's pool of a kind on its own, at least
    the scaled default (the benchmark's volumes: one scale for every city and kind would multiply the busiest
    city's demand by every city and kind). Returns the number of rows created."""
    counts = counts or {}
    rows = [
        Resource(kind=kind, identifier=_identifier(kind, code, n), region_code=code, status=Resource.Status.FREE)
        for code in region_codes
        for kind, (_prefix, count) in POOL.items()
        for n in range(1, max(1, round(count * scale), counts.get((code, kind), 0)) + 1)
    ]
    before = Resource.objects.count()
    Resource.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return Resource.objects.count() - before
