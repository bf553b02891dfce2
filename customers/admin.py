"""Admin as an operations console: every queryset through visible_to(), writes through services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from customers import models, services, tasks
from customers.policy import hidden_contact_fields, hidden_customer_fields, may_change_tier_rules
from customers.tiering import engine
from customers.tiering import services as tier_services
from kam import admin_forms as kam_admin
from kam.celery import enqueue_on_commit


class ScopedAdminMixin:
    """The same visibility rules as pages and API: rows outside visible_to(user) do not exist."""

    customer_path = "customer"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        visible = models.Customer.objects.visible_to(request.user)
        if self.customer_path is None:
            return queryset.filter(pk__in=visible.values("pk")) if not request.user.sees_all_customers else queryset
        if request.user.sees_all_customers:
            return queryset
        return queryset.filter(**{f"{self.customer_path}__in": visible.values("pk")})


class ContactInline(kam_admin.TabularInline):
    model = models.Contact
    fields = ("name", "title", "department", "mobile", "is_key_person", "active_to")
    extra = 0
    show_change_link = True
    can_delete = False


class AliasInline(kam_admin.TabularInline):
    model = models.CustomerAlias
    fields = ("name", "source", "created_at")
    readonly_fields = ("created_at",)
    extra = 0


class CustomerAdminForm(forms.ModelForm):
    """Runs the service-level validation (credit code, hierarchy, phone) as form errors."""

    request_user = None

    def _post_clean(self):
        super()._post_clean()
        try:
            services.validate_customer(self.instance, by=self.request_user)
        except ValidationError as exc:
            self._update_errors(exc)


@admin.register(models.Customer)
class CustomerAdmin(ScopedAdminMixin, kam_admin.RefuseControlCharactersAdmin, SimpleHistoryAdmin):
    customer_path = None
    form = CustomerAdminForm
    list_display = ("code", "name", "tier", "status", "industry", "region", "account_manager", "members_count")
    list_filter = ("tier", "status", "is_strategic", "industry", "ownership")
    list_select_related = ("industry", "region", "account_manager")
    search_fields = ("name", "short_name", "code", "credit_code", "phone_digits")
    autocomplete_fields = ("parent", "account_manager", "region", "industry")
    readonly_fields = ("code", "merged_into", "name_core", "name_region", "created_at", "updated_at", "created_by")
    inlines = [ContactInline, AliasInline]
    show_full_result_count = False  # no COUNT(*) over the whole table on every changelist
    list_per_page = 50

    def get_exclude(self, request, obj=None):
        return tuple(hidden_customer_fields(request.user))

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request_user = request.user
        return form

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is not None and allowed:
            return models.Customer.objects.editable_by(request.user).filter(pk=obj.pk).exists()
        return allowed

    def has_delete_permission(self, request, obj=None):
        return False  # nothing is hard-deleted: merge or mark churned instead

    def save_model(self, request, obj, form, change):
        """Admin edits go through the services (validation, history, duplicate check, assignments).
        The admin form is the confirmation step, so the duplicate check is confirmed here."""
        fields = {f: form.cleaned_data[f] for f in form.changed_data if f in services.CUSTOMER_WRITABLE_FIELDS}
        try:
            if change:
                services.customer_update(
                    customer=models.Customer.objects.get(pk=obj.pk),
                    by=request.user,
                    confirm_not_duplicate=True,
                    reason=_("Changed in admin"),
                    **fields,
                )
            else:
                created = services.customer_create(by=request.user, confirm_not_duplicate=True, **fields)
                obj.pk = created.pk
        except PermissionDenied:
            messages.error(request, _("You may not change this customer."))
            raise

    @admin.action(description=_("Recompute normalised names and codes"))
    def refresh_keys(self, request, queryset):
        for customer in queryset[:1000]:
            services.customer_refresh_keys(customer=customer)
        self.message_user(request, _("Matching keys refreshed."))

    actions = ["refresh_keys"]


@admin.register(models.Contact)
class ContactAdmin(ScopedAdminMixin, kam_admin.RefuseControlCharactersAdmin, SimpleHistoryAdmin):
    list_display = ("name", "customer", "title", "mobile", "is_key_person", "active_to")
    list_filter = ("is_key_person", "decision_role", "influence")
    list_select_related = ("customer",)
    search_fields = ("name", "mobile_digits", "office_phone_digits", "customer__name")
    autocomplete_fields = ("customer",)
    readonly_fields = ("mobile_digits", "office_phone_digits", "created_at", "updated_at")
    show_full_result_count = False

    def get_exclude(self, request, obj=None):
        return tuple(hidden_contact_fields(request.user))

    def has_delete_permission(self, request, obj=None):
        return False  # a key person who leaves is kept, with active_to set


@admin.register(models.SpendRecord)
class SpendRecordAdmin(ScopedAdminMixin, kam_admin.ModelAdmin):
    list_display = ("customer", "month", "category", "amount")
    list_filter = ("category", "month")
    list_select_related = ("customer",)
    search_fields = ("customer__name", "customer__code")
    autocomplete_fields = ("customer",)
    date_hierarchy = "month"
    show_full_result_count = False


@admin.register(models.GroupMember)
class GroupMemberAdmin(ScopedAdminMixin, kam_admin.ModelAdmin):
    list_display = ("msisdn", "customer", "status", "joined_on", "left_on")
    list_filter = ("status",)
    list_select_related = ("customer",)
    search_fields = ("msisdn", "customer__name")
    autocomplete_fields = ("customer",)
    show_full_result_count = False

    # What is derived from the members (members count, monthly member counts, cached charts) follows an edit.
    def save_model(self, request, obj, form, change):
        before = form.initial.get("customer") if change else None
        super().save_model(request, obj, form, change)
        services.member_facts_refresh(customer_ids={obj.customer_id, before} - {None})

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.member_facts_refresh(customer_ids=[obj.customer_id])

    def delete_queryset(self, request, queryset):
        customer_ids = set(queryset.values_list("customer_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        services.member_facts_refresh(customer_ids=customer_ids)


@admin.register(models.MemberCount)
class MemberCountAdmin(ScopedAdminMixin, kam_admin.ReadOnlyAdminMixin, kam_admin.ModelAdmin):
    """Read-only: derived from the members by services.member_months_recompute and member_months_record."""

    list_display = ("customer", "month", "active", "joined", "left")
    list_select_related = ("customer",)
    search_fields = ("customer__name", "customer__code")
    date_hierarchy = "month"
    show_full_result_count = False


@admin.register(models.Visit)
class VisitAdmin(ScopedAdminMixin, kam_admin.ModelAdmin):
    list_display = ("visited_on", "customer", "kind", "purpose", "visited_by")
    list_filter = ("kind",)
    list_select_related = ("customer", "visited_by")
    search_fields = ("customer__name", "purpose")
    autocomplete_fields = ("customer", "visited_by", "contacts")  # 7,000 contacts: search, not a list
    date_hierarchy = "visited_on"


@admin.register(models.AccountManagerAssignment)
class AssignmentAdmin(ScopedAdminMixin, kam_admin.ModelAdmin):
    list_display = ("customer", "account_manager", "started_at", "ended_at", "reason", "assigned_by")
    list_select_related = ("customer", "account_manager", "assigned_by")
    search_fields = ("customer__name", "account_manager__username")
    readonly_fields = [f.name for f in models.AccountManagerAssignment._meta.fields]

    def has_add_permission(self, request):
        return False  # assignments are written by handovers and account-manager changes

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.MergeRecord)
class MergeRecordAdmin(ScopedAdminMixin, kam_admin.ModelAdmin):
    customer_path = "survivor"
    list_display = ("merged_at", "duplicate", "survivor", "merged_by", "reason")
    list_select_related = ("duplicate", "survivor", "merged_by")
    search_fields = ("duplicate__name", "survivor__name")
    readonly_fields = [f.name for f in models.MergeRecord._meta.fields]

    def has_add_permission(self, request):
        return False  # merges go through the merge screen (services.customer_merge)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.CustomerAlias)
class CustomerAliasAdmin(ScopedAdminMixin, kam_admin.ModelAdmin):
    list_display = ("name", "customer", "source", "created_at")
    list_filter = ("source",)
    list_select_related = ("customer",)
    search_fields = ("name", "customer__name")
    autocomplete_fields = ("customer",)
    readonly_fields = ("name_core", "name_region")

    def save_model(self, request, obj, form, change):
        from customers.naming import name_key

        key = name_key(obj.name)
        obj.name_core, obj.name_region = key.core, key.region
        super().save_model(request, obj, form, change)


@admin.register(models.CustomerRelation)
class CustomerRelationAdmin(ScopedAdminMixin, kam_admin.ModelAdmin):
    customer_path = "from_customer"
    list_display = ("from_customer", "kind", "to_customer", "note")
    list_filter = ("kind",)
    list_select_related = ("from_customer", "to_customer")
    autocomplete_fields = ("from_customer", "to_customer")
    search_fields = ("from_customer__name", "to_customer__name")


@admin.register(models.NameAbbreviation)
class NameAbbreviationAdmin(kam_admin.RefuseControlCharactersAdmin, SimpleHistoryAdmin):
    list_display = ("abbreviation", "full_name", "note")
    search_fields = ("abbreviation", "full_name")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Stored name keys follow the new rule once the change is committed.
        enqueue_on_commit(tasks.refresh_name_keys)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        enqueue_on_commit(tasks.refresh_name_keys)


@admin.register(models.Region)
class RegionAdmin(kam_admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "level", "parent")
    list_filter = ("level",)
    list_select_related = ("parent",)
    search_fields = ("code", "name", "name_en")
    autocomplete_fields = ("parent",)


@admin.register(models.Industry)
class IndustryAdmin(kam_admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "importance")
    search_fields = ("code", "name", "name_en")


@admin.register(models.TierLevel)
class TierLevelAdmin(kam_admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "visit_cycle_days", "sort_order")


# --- tiers and value (issue 3): rules are edited here with history, runs and moves are read-only ---------------


class TierRulesAdminMixin:
    """Rule edits go through tier_services.tier_rules_update (it bumps the rule version and keeps history); the form
    shows the same rule checks as errors before anything is saved. Each admin using it defines
    `rules_as_edited(instance)`: (policy, bands best first) as they would be after the form's save."""

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        admin_ = self

        class CheckedForm(form):
            def _post_clean(self):
                super()._post_clean()
                problems = tier_services.rules_problems(*admin_.rules_as_edited(self.instance))
                for field, problem in problems.items():
                    self.add_error(field if field in self.fields else None, problem)

        return CheckedForm

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and may_change_tier_rules(request.user)

    def has_add_permission(self, request):
        return False  # the rows come with the migrations: one policy, one band per tier

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.TierPolicy)
class TierPolicyAdmin(TierRulesAdminMixin, kam_admin.RefuseControlCharactersAdmin, SimpleHistoryAdmin):
    list_display = ("__str__", "months_window", "publication", "downgrade_after", "override_months", "updated_at")
    readonly_fields = ("version", "updated_at")

    def rules_as_edited(self, instance):
        return instance, engine.load_rules().bands

    def save_model(self, request, obj, form, change):
        fields = {f: form.cleaned_data[f] for f in form.changed_data if f in tier_services.POLICY_FIELDS}
        tier_services.tier_rules_update(by=request.user, reason=_("Changed in admin"), **fields)
        obj.refresh_from_db()


@admin.register(models.TierBand)
class TierBandAdmin(TierRulesAdminMixin, kam_admin.RefuseControlCharactersAdmin, SimpleHistoryAdmin):
    list_display = ("tier", "min_revenue", "min_members", "alt_min_revenue", "strategic_only", "annual_retention")
    ordering = ("tier",)

    def rules_as_edited(self, instance):
        rules = engine.load_rules()
        return rules.policy, [instance if band.pk == instance.pk else band for band in rules.bands]

    def get_readonly_fields(self, request, obj=None):
        return ("tier",)

    def save_model(self, request, obj, form, change):
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in tier_services.BAND_FIELDS}
        tier_services.tier_rules_update(by=request.user, reason=_("Changed in admin"), bands={obj.tier: changes})
        obj.refresh_from_db()


@admin.register(models.ValueFactor)
class ValueFactorAdmin(kam_admin.RefuseControlCharactersAdmin, SimpleHistoryAdmin):
    list_display = ("code", "name", "name_en", "weight", "description")
    readonly_fields = ("code",)

    def has_add_permission(self, request):
        return False  # one row per factor the evaluation knows (ValueFactor.Code)

    def has_delete_permission(self, request, obj=None):
        return False  # set the weight to 0 to leave a factor out


@admin.register(models.TierEvaluation)
class TierEvaluationAdmin(kam_admin.ReadOnlyAdminMixin, kam_admin.ModelAdmin):
    list_display = ("period", "kind", "rule_version", "started_at", "finished_at", "started_by", "customers",
                    "upgrades", "downgrades", "statements")  # fmt: skip
    list_filter = ("kind",)
    list_select_related = ("started_by",)
    exclude = ("moves",)  # up to thousands of rows: the tier evaluation page lists them


@admin.register(models.TierChange)
class TierChangeAdmin(ScopedAdminMixin, kam_admin.ReadOnlyAdminMixin, kam_admin.ModelAdmin):
    list_display = ("changed_at", "customer", "from_tier", "to_tier", "is_upgrade", "source", "rule_version")
    list_filter = ("source", "is_upgrade", "to_tier")
    list_select_related = ("customer",)
    search_fields = ("customer__name", "customer__code")
    show_full_result_count = False


@admin.register(models.TierOverride)
class TierOverrideAdmin(ScopedAdminMixin, kam_admin.ReadOnlyAdminMixin, kam_admin.ModelAdmin):
    """Overrides are made and revoked on the customer's page (tier_services.tier_override_create moves the tier)."""

    list_display = ("customer", "tier", "starts_on", "expires_on", "revoked_at", "requested_by", "approved_by")
    list_filter = ("tier",)
    list_select_related = ("customer", "requested_by", "approved_by")
    search_fields = ("customer__name", "customer__code")
