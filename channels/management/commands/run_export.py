"""manage.py run_export: prepare an export job in this process (no worker), as the Celery task would."""

import json
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.exports import ExportRefused
from channels.exports import services as exports
from channels.models import ExportJob, User


class Command(BaseCommand):
    help = (
        "Prepare an export for a user in this process, as a worker would: the rows that user may see, the columns "
        "their role may read; the file goes to KAM_EXPORT_DIR and the user is notified with its download link. "
        'Example: run_export --user sup_wang --kind customers --parameters \'{"filters": {"tier": ["C"]}}\'.'
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="The username of the person the export is for.")
        parser.add_argument("--kind", required=True, help='A registered export kind ("customers", "segment").')
        parser.add_argument("--format", default="xlsx", choices=ExportJob.Format.values)
        parser.add_argument("--parameters", default="{}", help="The kind's parameters as a JSON object.")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(_("No active user %(name)s.") % {"name": options["user"]})
        try:
            parameters = json.loads(options["parameters"])
        except json.JSONDecodeError:
            raise CommandError(_("--parameters must be a JSON object.")) from None
        if not isinstance(parameters, dict):
            raise CommandError(_("--parameters must be a JSON object."))
        try:
            source = exports.prepare(user=user, kind=options["kind"], parameters=parameters)
        except ExportRefused:
            raise CommandError(_("This user may not export that.")) from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        job = ExportJob.objects.create(
            user=user, kind=options["kind"], title=str(source.title)[:200], parameters=parameters,
            format=options["format"], file_name=f"{source.file_stem}.{options['format']}"[:200],
            queued_at=timezone.now(),
        )  # fmt: skip
        started = time.monotonic()
        job = exports.export_run(job.pk)
        seconds = time.monotonic() - started
        if job.status != ExportJob.Status.DONE:
            raise CommandError(job.error)
        self.stdout.write(
            self.style.SUCCESS(
                _("%(rows)s rows in %(seconds).1f s: %(path)s (%(size)s bytes)")
                % {
                    "rows": job.row_count,
                    "seconds": seconds,
                    "path": exports.job_path(job),
                    "size": exports.job_path(job).stat().st_size,
                }
            )  # fmt: skip
        )
