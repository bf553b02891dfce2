"""The 360 page as a browser shows it: the page, then every lazy panel it fetches (htmx, on load)."""

import re

LAZY_PANEL = re.compile(r'hx-get="(/customers/\d+/panels/[\w-]+/)"')


def page_with_panels(client, customer) -> str:
    page = client.get(customer.get_absolute_url()).content.decode()
    return page + "".join(
        client.get(url, headers={"HX-Request": "true"}).content.decode() for url in LAZY_PANEL.findall(page)
    )
