"""manage.py seed_demo: the demo province (see customers.demo)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from customers import demo


class Command(BaseCommand):
    help = (
        "Create the demo province (DOMAIN.md §6.3): Zhejiang's 11 cities, staff and demo logins, group customers "
        "in the A1/A2/B1/B2/C/D tier mix with hierarchies, contacts, monthly spend, group members, visits and a "
        "few deliberate near-duplicates, all marked is_demo. Does nothing when demo customers already exist. "
        "Rows are bulk-inserted: customers get one 'created' history row each; contacts, spend and members "
        "get no history rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=3000, help="Number of group customers (default 3000).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed: the same seed gives the same data.")
        parser.add_argument(
            "--contacts-per-customer",
            type=int,
            default=None,
            help="Exactly this many contacts per customer (default: 1-8 by tier).",
        )
        parser.add_argument(
            "--members-per-customer",
            type=int,
            default=None,
            help="Exactly this many group members per customer (default: log-normal within the tier's band).",
        )
        parser.add_argument("--months", type=int, default=24, help="Months of spend history (default 24).")
        parser.add_argument(
            "--no-evaluate",
            action="store_true",
            help="Leave tiers and values unevaluated and create no demo segments (the benchmarks time those).",
        )
        parser.add_argument(
            "--monthly-totals",
            action="store_true",
            help="One spend row per customer and month (the month's total under the main category) instead of "
            "one per category; prospects get spend too. Used by the benchmark.",
        )

    def handle(self, *args, **options):
        for option in ("customers", "months"):
            if options[option] < 1:
                raise CommandError(_("--%(option)s must be at least 1.") % {"option": option})
        for option in ("contacts_per_customer", "members_per_customer"):
            if options[option] is not None and options[option] < 0:
                raise CommandError(_("--%(option)s cannot be negative.") % {"option": option.replace("_", "-")})
        existing = demo.already_seeded()
        if existing:
            self.stdout.write(
                _("The demo data is already there (%(count)d demo customers): nothing to do.") % {"count": existing}
            )
            return
        verbose = options["verbosity"] > 1
        summary = demo.seed(
            customers=options["customers"],
            seed=options["seed"],
            contacts_per_customer=options["contacts_per_customer"],
            members_per_customer=options["members_per_customer"],
            months=options["months"],
            monthly_totals=options["monthly_totals"],
            progress=(lambda message: self.stdout.write(f"  {message}")) if verbose else (lambda message: None),
        )
        self.stdout.write(
            self.style.SUCCESS(_("Demo province created in %(seconds).1f s:") % {"seconds": summary.timings["total"]})
        )
        for label, count in summary.counts.items():
            self.stdout.write(f"  {label}: {count:,}")
        if not options["no_evaluate"]:
            finished = demo.finish()
            self.stdout.write(
                _("Tiers and values evaluated and published for %(count)d customers; %(segments)d shared segments.")
                % {"count": finished["evaluated"], "segments": finished["segments"]}
            )
        self.stdout.write(_("Demo logins (password %(password)s):") % {"password": settings.DEMO_PASSWORD})
        for username, display_name, role, *_rest in demo.DEMO_LOGINS:
            self.stdout.write(f"  {username:<12} {display_name}  {role.label}")
