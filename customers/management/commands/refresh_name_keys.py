from django.core.management.base import BaseCommand

from customers.services import name_keys_refresh


class Command(BaseCommand):
    help = "Recompute the normalised name keys of all customers and aliases (after naming rules changed)."

    def handle(self, *args, **options):
        changed = name_keys_refresh()
        self.stdout.write(self.style.SUCCESS(f"{changed} name keys updated."))
