"""manage.py seed_orders: agreements, orders, work orders, the installed base and the resource pool of the demo
province (orders.demo)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from customers.models import Customer
from orders import demo


class Command(BaseCommand):
    help = (
        "Create the orders half of the demo province on the customers of seed_demo: provisioning staff, a resource "
        "pool per city, agreements (some ending within 90 days), subscriptions matching each customer's billed spend "
        "categories, the orders behind them with recent work orders, orders in flight in every state (steps overdue "
        "or blocked among them) and one customer that left with its resources released. Does nothing when orders "
        "exist. --subscriptions, --orders and --steps seed the benchmark's volumes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="Random seed: the same seed gives the same data.")
        parser.add_argument("--subscriptions", type=int, default=None, help="At least this many subscriptions.")
        parser.add_argument("--orders", type=int, default=None, help="At most this many completed orders.")
        parser.add_argument(
            "--steps",
            type=int,
            default=None,
            help="About this many work-order steps: the newest completed orders keep their work orders until then "
            "(default: those of the last six months).",
        )
        parser.add_argument(
            "--open-share", type=float, default=0.03, help="Orders in flight per live customer (default 0.03)."
        )

    def handle(self, *args, **options):
        for option in ("subscriptions", "orders", "steps"):
            if options[option] is not None and options[option] < 1:
                raise CommandError(_("--%(option)s must be at least 1.") % {"option": option})
        if not 0 <= options["open_share"] <= 1:
            raise CommandError(_("--%(option)s must be between 0 and 1.") % {"option": "open-share"})
        existing = demo.already_seeded()
        if existing:
            self.stdout.write(_("Orders are already there (%(count)d): nothing to do.") % {"count": existing})
            return
        if not Customer.objects.filter(is_demo=True).exists():
            raise CommandError(_("No demo customers: run manage.py seed_demo first."))
        verbose = options["verbosity"] > 1
        summary = demo.seed(
            seed=options["seed"],
            subscriptions=options["subscriptions"],
            orders=options["orders"],
            steps=options["steps"],
            open_share=options["open_share"],
            progress=(lambda message: self.stdout.write(f"  {message}")) if verbose else (lambda message: None),
        )
        self.stdout.write(
            self.style.SUCCESS(_("Demo orders created in %(seconds).1f s:") % {"seconds": summary.timings["total"]})
        )
        for label, count in summary.counts.items():
            self.stdout.write(f"  {label}: {count:,}")
        self.stdout.write(
            _("Provisioning logins: %(logins)s") % {"logins": ", ".join(u for u, _r in demo.DEMO_STAFF_LOGINS)}
        )
