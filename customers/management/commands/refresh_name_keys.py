from django.core.management.base import BaseCommand

from customers.services import refresh_name_keys


class Command(BaseCommand):
    help = "Recompute the normalised name keys of all customers and aliases (after naming rules changed)."

    def handle(self, *args, **options):
        changed = refresh_name_keys()
        self.stdout.write(self.style.SUCCESS(f"{changed} name keys updated."))
