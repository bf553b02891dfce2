"""manage.py seed_opportunities: demo leads and opportunities (opportunities.demo)."""

from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from customers.models import Customer
from opportunities import demo
from opportunities.models import Opportunity, RoutingStatus, Stage


class Command(BaseCommand):
    help = (
        "Create about 600 demo leads and opportunities over the last six months on the demo province of "
        "seed_demo: captured from every channel, routed, claimed, returned and re-dispatched, worked through the "
        "sales stages and closed won/lost, with their transfer log and stage history. Does nothing when "
        "opportunities already exist (unless --force)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=600, help="About how many rows (default 600).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed: the same seed gives the same data.")
        parser.add_argument(
            "--force", action="store_true", help="Seed even though opportunities exist (adds another batch)."
        )

    def handle(self, *args, **options):
        if options["count"] < 1:
            raise CommandError(_("--%(option)s must be at least 1.") % {"option": "count"})
        existing = demo.already_seeded()
        if existing and not options["force"]:
            self.stdout.write(_("Opportunities are already there (%(count)d): nothing to do.") % {"count": existing})
            return
        if not Customer.objects.filter(is_demo=True).exists():
            raise CommandError(_("No demo customers: run manage.py seed_demo first."))
        verbose = options["verbosity"] > 1
        summary = demo.seed(
            count=options["count"],
            seed=options["seed"],
            progress=(lambda message: self.stdout.write(f"  {message}")) if verbose else (lambda message: None),
        )
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo opportunities created in %(seconds).1f s:") % {"seconds": summary.timings["total"]}
            )
        )
        for label, count in summary.counts.items():
            self.stdout.write(f"  {label}: {count:,}")
        rows = Opportunity.objects.all()
        routing = Counter(rows.values_list("routing_status", flat=True))
        stages = Counter(rows.values_list("stage", flat=True))
        self.stdout.write(
            "  " + ", ".join(f"{RoutingStatus(k).label}: {routing[k]}" for k in RoutingStatus.values if routing[k])
        )
        self.stdout.write(
            "  " + ", ".join(f"{Stage(k).label if k else _('Lead')}: {n}" for k, n in sorted(stages.items()))
        )
