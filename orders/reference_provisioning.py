"""Provisioning reference data shipped with KAM, loaded by data migrations and editable afterwards: what the
resource check reserves per product, and the work-order steps per product (DOMAIN.md §2.2, §5.2).

Plain data: a migration must not import the live models, so the loaders take the historical model classes."""

CIRCUIT, NUMBER_BLOCK, IP_BLOCK, PORT = "circuit", "number_block", "ip_block", "port"

# product code -> ((resource kind, taken from the customer's region?), ...)
# Leased lines are built from the local network (region matters); an internet line also needs a public IP block
# from the regional pool. Fixed-line numbers (IMS, switchboard) are local numbers; a 400 number is national.
# SMS gateway ports sit on the provincial gateway: any free port will do.
RESOURCE_NEEDS: dict[str, tuple[tuple[str, bool], ...]] = {
    "INET": ((CIRCUIT, True), (IP_BLOCK, True)),
    "DATA": ((CIRCUIT, True),),
    "MPLS": ((CIRCUIT, True),),
    "SDWAN": ((CIRCUIT, True),),
    "IDC": ((CIRCUIT, True),),
    "EBB": ((CIRCUIT, True),),
    "N400": ((NUMBER_BLOCK, False),),
    "SWBD": ((NUMBER_BLOCK, True),),
    "IMSFIX": ((NUMBER_BLOCK, True),),
    "MAS": ((PORT, False),),
    "QXT": ((PORT, False),),
}


def load_resource_needs(Product, ProductResourceNeed) -> int:
    """Create the missing rows (an admin's edits of existing rows stay)."""
    products = dict(Product.objects.filter(code__in=RESOURCE_NEEDS).values_list("code", "pk"))
    created = 0
    for code, needs in RESOURCE_NEEDS.items():
        if code not in products:
            continue
        for kind, region_matters in needs:
            _, made = ProductResourceNeed.objects.get_or_create(
                product_id=products[code], kind=kind, defaults={"region_matters": region_matters}
            )
            created += made
    return created
