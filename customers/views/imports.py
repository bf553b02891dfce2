"""The data steward's customer import page: upload → preview (errors, duplicates) → confirm. Thin:
customers.imports.reader reads the file, customers.imports.services previews and imports; the upload form is
customers.forms.imports."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from customers import policy
from customers.forms.imports import UploadForm
from customers.imports import reader, services
from kam.validators import parse_id

SESSION_KEY = "customer_import_rows"


@require_http_methods(["GET", "POST"])
def customer_import(request):
    user = request.user
    if not policy.is_data_steward(user):
        raise Http404
    form, rows = UploadForm(), None
    if request.method == "POST" and request.POST.get("action") == "confirm":
        stored = request.session.get(SESSION_KEY)
        if not stored:
            messages.error(request, _("The preview has expired; upload the file again."))
            return redirect("customers:import")
        confirmed = {line for line in map(parse_id, request.POST.getlist("confirm")) if line}
        try:
            created = services.customer_import(rows=stored, by=user, confirmed_lines=confirmed)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            rows = services.customer_import_preview(rows=stored, by=user)
        else:
            del request.session[SESSION_KEY]
            messages.success(request, _("%(n)d customers imported.") % {"n": created})
            return redirect("customers:list")
    elif request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                parsed = reader.read_rows(form.cleaned_data["file"])
            except ValidationError as exc:
                form.add_error("file", exc)
            else:
                request.session[SESSION_KEY] = parsed
                rows = services.customer_import_preview(rows=parsed, by=user)
    context = {
        "form": form,
        "rows": rows,
        "columns": list(reader.COLUMNS),
        "column_headers": {f: h[0] for f, h in reader.COLUMNS.items()},
        "has_errors": bool(rows) and any(not r.ok for r in rows),
        "max_rows": reader.MAX_ROWS,
    }
    return render(request, "customers/import.html", context)
