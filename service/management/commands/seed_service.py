"""manage.py seed_service: the service desk of the demo province (service.demo)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from customers.models import Customer
from service import demo


class Command(BaseCommand):
    help = (
        "Create the service desk of the demo province on the customers of seed_demo: ticket categories with the "
        "network operations and billing queues (logins noc_lin, billing_xu), knowledge articles and answer "
        "scripts, and tickets in every state with their clocks. Does nothing when tickets exist."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="Random seed: the same seed gives the same data.")
        parser.add_argument("--tickets", type=int, default=60, help="How many tickets (default 60).")

    def handle(self, *args, **options):
        if not 1 <= options["tickets"] <= 1_000_000:
            raise CommandError(_("--%(option)s must be between 1 and 1,000,000.") % {"option": "tickets"})
        existing = demo.already_seeded()
        if existing:
            self.stdout.write(_("Tickets are already there (%(count)d): nothing to do.") % {"count": existing})
            return
        if not Customer.objects.filter(is_demo=True).exists():
            raise CommandError(_("No demo customers: run manage.py seed_demo first."))
        summary = demo.seed(seed=options["seed"], tickets=options["tickets"])
        self.stdout.write(_("%(tickets)d tickets (%(breached)d deadlines breached), %(articles)d knowledge articles.")
                          % summary)  # fmt: skip
