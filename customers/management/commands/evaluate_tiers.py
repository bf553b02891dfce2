"""manage.py evaluate_tiers: the tier and value evaluation (customers.tiering.engine), run by hand."""

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from customers.models import TierEvaluation
from customers.tiering import engine

Kind = TierEvaluation.Kind


class Command(BaseCommand):
    help = (
        "Evaluate customer tiers, value scores and lifetime values for a billed month (default: the latest month "
        "with spend). Without options it refreshes the computed values and publishes only if the tier policy's "
        "schedule says so (as the monthly beat run does); --dry-run shows the moves a publication would make and "
        "writes nothing else; --publish publishes now. Safe to run twice."
    )

    def add_arguments(self, parser):
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument("--dry-run", action="store_true", help="Show the moves a publication would make.")
        kind.add_argument("--publish", action="store_true", help="Publish: move published tiers by the rules.")
        parser.add_argument("--period", help="The billed month to evaluate, YYYY-MM (default: the latest billed).")

    def handle(self, *args, **options):
        period = None
        if options["period"]:
            try:
                period = datetime.datetime.strptime(options["period"], "%Y-%m").date()
            except ValueError:
                raise CommandError(_('Give the month as "YYYY-MM".')) from None
        if options["dry_run"]:
            kind = Kind.DRY_RUN
        elif options["publish"]:
            kind = Kind.PUBLICATION
        else:
            kind = engine.scheduled_kind()
        try:
            evaluation = engine.evaluate_tiers(period=period, kind=kind)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        seconds = (evaluation.finished_at - evaluation.started_at).total_seconds()
        self.stdout.write(
            self.style.SUCCESS(
                _("%(kind)s of %(period)s (rules v%(version)d) in %(seconds).1f s, %(statements)d SQL statements:")
                % {"kind": evaluation.get_kind_display(), "period": f"{evaluation.period:%Y-%m}",
                   "version": evaluation.rule_version, "seconds": seconds, "statements": evaluation.statements}
            )
        )  # fmt: skip
        self.stdout.write(_("  customers evaluated: %(count)d") % {"count": evaluation.customers})
        if kind == Kind.EVALUATION:
            self.stdout.write(_("  not a publication: published tiers are unchanged"))
            return
        verb = _("would move") if kind == Kind.DRY_RUN else _("moved")
        self.stdout.write(
            _("  %(verb)s: %(up)d up, %(down)d down")
            % {"verb": verb, "up": evaluation.upgrades, "down": evaluation.downgrades}
        )
        for move in evaluation.moves[:20]:
            self.stdout.write(f"    {move['name']}: {move['from'] or '-'} → {move['to']}  {move['reason']}")
        more = evaluation.upgrades + evaluation.downgrades - 20
        if more > 0:
            self.stdout.write(_("    … and %(count)d more") % {"count": more})
