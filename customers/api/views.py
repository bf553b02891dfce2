"""Customers API. Every queryset starts from Customer.objects.visible_to(user), so another person's
customer (or its contacts, visits, spend, members) is a 404; writes validate an input serializer and
call customers.services, which decide who may change what (403 for what the caller can see but not change).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from channels.exports.writers import XLSX_TYPE
from channels.fields import ACCEPTED, api_export_response
from customers import exports, selectors, services
from customers.api import filters
from customers.api import serializers as s
from customers.api.segments import IgnoreFormatParameter
from customers.fields import DuplicateConflictSerializer, DuplicateSerializer
from customers.models import Contact, Customer, GroupMember, SpendRecord, Visit
from customers.policy import (
    can_edit,
    hidden_contact_fields,
    hidden_customer_fields,
    may_browse_customers,
    may_see_spend,
)
from kam.api.errors import FORBIDDEN, INVALID, NOT_FOUND, conflict_response
from kam.api.pagination import SortedKeysetPagination
from kam.api.permissions import PERMISSIONS
from kam.api.schema import FilteredDownloadSchema
from kam.api.viewsets import ScopedViewSet, validated

DUPLICATES = {409: OpenApiResponse(DuplicateConflictSerializer, description="Likely duplicates; resend with "
                                   "`confirm_not_duplicate: true` to save anyway.")}  # fmt: skip


def duplicates_response(exc: services.DuplicateWarning, user) -> Response:
    """409 with the likely duplicates the caller may see; the others are only counted, never named."""
    shown, hidden = selectors.visible_duplicates(user=user, candidates=exc.candidates)
    return conflict_response(str(exc), duplicates=DuplicateSerializer(shown, many=True).data, hidden_duplicates=hidden)


def require_editable(user, customer: Customer) -> None:
    """403 before the input is read, for a customer the caller can see but not change (agents, dispatchers);
    the service checks again when it writes."""
    if not can_edit(user, customer):
        raise PermissionDenied(_("You may not change this customer."))


@extend_schema_view(
    list=extend_schema(
        summary="List customers",
        description="Live customers you may see, newest first. With a search (`q` or `search`), exact matches "
        "of the name, short name or an alias come first, then names that start with the term, then the rest "
        "(newest first in each group). A word of two characters or more is found anywhere in the name, short "
        "name or an alias; a single character only at the start. Call-center agents get the service view "
        "without finance, strategy, attitude and budget fields.",
        responses={200: s.CustomerSerializer(many=True), **INVALID},
    ),
    retrieve=extend_schema(summary="Get a customer", responses={200: s.CustomerSerializer, **NOT_FOUND}),
    create=extend_schema(
        summary="Create a customer",
        description="Only `name` is required (a prospect). Likely duplicates answer 409 with the candidates.",
        request=s.CustomerInputSerializer,
        responses={201: s.CustomerSerializer, **INVALID, **FORBIDDEN, **DUPLICATES},
    ),
    update=extend_schema(
        summary="Change a customer",
        description="Fields left out stay as they are. A new name, credit code or phone is checked for duplicates.",
        request=s.CustomerInputSerializer,
        responses={200: s.CustomerSerializer, **INVALID, **FORBIDDEN, **NOT_FOUND, **DUPLICATES},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a customer",
        request=s.CustomerInputSerializer,
        responses={200: s.CustomerSerializer, **INVALID, **FORBIDDEN, **NOT_FOUND, **DUPLICATES},
    ),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Customer.objects.none()  # types the schema; get_queryset scopes by user
    filterset_class = filters.CustomerApiFilterSet
    filter_backends = [filters.RankedSearchBackend]
    pagination_class = SortedKeysetPagination
    keyset_sorts = filters.API_SORTS

    def get_queryset(self):
        if self.action == "list":
            return selectors.customer_list(user=self.request.user)
        # Merged records stay readable: they show where they went.
        return Customer.objects.visible_to(self.request.user).select_related("account_manager")

    def get_serializer_class(self):
        if not getattr(self, "swagger_fake_view", False) and hidden_customer_fields(self.request.user):
            return s.CustomerServiceSerializer
        return s.CustomerSerializer

    def create(self, request):
        data = validated(s.CustomerInputSerializer, request)
        confirm, reason = data.pop("confirm_not_duplicate", False), data.pop("reason", "")
        try:
            customer = services.customer_create(by=request.user, confirm_not_duplicate=confirm, reason=reason, **data)
        except services.DuplicateWarning as exc:
            return duplicates_response(exc, request.user)
        return Response(self.get_serializer(customer).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        customer = self.get_object()
        require_editable(request.user, customer)
        data = validated(s.CustomerInputSerializer, request, partial=partial)
        confirm, reason = data.pop("confirm_not_duplicate", False), data.pop("reason", "")
        try:
            customer = services.customer_update(
                customer=customer, by=request.user, confirm_not_duplicate=confirm, reason=reason, **data
            )
        except services.DuplicateWarning as exc:
            return duplicates_response(exc, request.user)
        return Response(self.get_serializer(customer).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    @extend_schema(
        summary="Merge a duplicate into this customer",
        description="Data stewards and admins. Contacts, spend, members, visits, children and aliases move to "
        "this customer; the duplicate stays as a merged record pointing here.",
        request=s.MergeInputSerializer,
        responses={200: s.MergeRecordSerializer, **INVALID, **FORBIDDEN, **NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        survivor = self.get_object()
        data = validated(s.MergeInputSerializer, request)
        record = services.customer_merge(
            survivor=survivor, duplicate=data["duplicate"], by=request.user, reason=data.get("reason", "")
        )
        return Response(s.MergeRecordSerializer(record).data)

    @extend_schema(
        summary="Hand this customer over to another account manager",
        description="The supervisor of the current account manager's team, or an admin.",
        request=s.HandoverInputSerializer,
        responses={200: s.HandoverResultSerializer, **INVALID, **FORBIDDEN, **NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def handover(self, request, pk=None):
        customer = self.get_object()
        data = validated(s.HandoverInputSerializer, request)
        if customer.account_manager is None:
            raise ValidationError(_("This customer has no account manager; assign one by changing the customer."))
        moved = services.customer_handover(
            from_user=customer.account_manager, to_user=data["to_user"], by=request.user, reason=data["reason"],
            customer_ids=[customer.pk],
        )  # fmt: skip
        return Response({"moved": moved})

    @extend_schema(
        summary="Export the customer list",
        description="The customers `GET /api/v1/customers/` lists with the same filters (newest first), as an XLSX "
        "workbook or a CSV file (UTF-8 with BOM), without a cap. Up to KAM_EXPORT_IMMEDIATE_MAX_ROWS rows (5,000 "
        "by default) the file is the answer; beyond, the export is prepared in the background: 202 with the job "
        "(see /api/v1/exports/), and you are notified when the file is ready. Call-center agents get no finance "
        "columns.",
        parameters=[OpenApiParameter("format", str, enum=["xlsx", "csv"], default="xlsx", description="File type.")],
        responses={
            (200, XLSX_TYPE): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.STR,
            **ACCEPTED,
            **INVALID,
        },
    )
    @action(
        detail=False, methods=["get"], content_negotiation_class=IgnoreFormatParameter, pagination_class=None,
        schema=FilteredDownloadSchema(),
    )  # fmt: skip
    def export(self, request):
        if not may_browse_customers(request.user):
            raise NotFound
        fmt = request.query_params.get("format", "xlsx")
        if fmt not in ("xlsx", "csv"):
            raise ValidationError({"format": [_("Choose xlsx or csv.")]})
        parameters = exports.customer_list_parameters(request.query_params, api=True)
        source = exports.customer_list_source(request.user, parameters)  # invalid filters: 400, as the list
        return api_export_response(
            user=request.user, kind=exports.CUSTOMER_LIST, parameters=parameters, fmt=fmt, source=source
        )

    @extend_schema(
        summary="Who is calling?",
        description="Customers and contacts whose phone matches the calling number, whatever its formatting, "
        "with the account manager to put the caller through to.",
        parameters=[s.LookupQuerySerializer],
        responses={200: s.CallerMatchSerializer(many=True), **INVALID},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def lookup(self, request):
        phone = validated(s.LookupQuerySerializer, request, data=request.query_params)["phone"]
        matches = selectors.caller_lookup(user=request.user, phone=phone)
        return Response(s.CallerMatchSerializer(matches, many=True).data)


class PortfolioHandoverView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        summary="Hand over an account manager's portfolio",
        description="All customers of `from_user`, or only those listed in `customers`, move to `to_user` in one "
        "transaction. The supervisor of the giving manager's team, or an admin.",
        request=s.PortfolioHandoverInputSerializer,
        responses={200: s.HandoverResultSerializer, **INVALID, **FORBIDDEN},
    )
    def post(self, request):
        data = validated(s.PortfolioHandoverInputSerializer, request)
        moved = services.customer_handover(
            from_user=data["from_user"], to_user=data["to_user"], by=request.user, reason=data["reason"],
            customer_ids=data.get("customers"),
        )  # fmt: skip
        return Response({"moved": moved})


@extend_schema_view(
    list=extend_schema(summary="List contacts", responses={200: s.ContactSerializer(many=True), **INVALID}),
    retrieve=extend_schema(summary="Get a contact", responses={200: s.ContactSerializer, **NOT_FOUND}),
    create=extend_schema(
        summary="Add a contact to a customer",
        request=s.ContactCreateSerializer,
        responses={201: s.ContactSerializer, **INVALID, **FORBIDDEN},
    ),
    update=extend_schema(
        summary="Change a contact",
        request=s.ContactInputSerializer,
        responses={200: s.ContactSerializer, **INVALID, **FORBIDDEN, **NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a contact",
        request=s.ContactInputSerializer,
        responses={200: s.ContactSerializer, **INVALID, **FORBIDDEN, **NOT_FOUND},
    ),
)
class ContactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Contact.objects.none()
    filterset_class = filters.ContactFilterSet

    def get_queryset(self):
        return Contact.objects.visible_to(self.request.user).select_related("customer")

    def get_serializer_class(self):
        if not getattr(self, "swagger_fake_view", False) and hidden_contact_fields(self.request.user):
            return s.ContactServiceSerializer
        return s.ContactSerializer

    def create(self, request):
        data = validated(s.ContactCreateSerializer, request)
        customer = data.pop("customer")
        data.pop("reason", None)  # a new contact's history says "Created"
        contact = services.contact_create(customer=customer, by=request.user, **data)
        return Response(self.get_serializer(contact).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        contact = self.get_object()
        require_editable(request.user, contact.customer)
        data = validated(s.ContactInputSerializer, request, partial=partial)
        contact = services.contact_update(contact=contact, by=request.user, **data)
        return Response(self.get_serializer(contact).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)


@extend_schema_view(
    list=extend_schema(summary="List visits", responses={200: s.VisitSerializer(many=True), **INVALID}),
    retrieve=extend_schema(summary="Get a visit", responses={200: s.VisitSerializer, **NOT_FOUND}),
    create=extend_schema(
        summary="Log a visit",
        request=s.VisitInputSerializer,
        responses={201: s.VisitSerializer, **INVALID, **FORBIDDEN},
    ),
)
class VisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Visit.objects.none()
    serializer_class = s.VisitSerializer
    filterset_class = filters.VisitFilterSet

    def get_queryset(self):
        return (
            Visit.objects.visible_to(self.request.user)
            .select_related("visited_by")
            .prefetch_related(Prefetch("contacts", queryset=Contact.objects.only("id")))
        )

    def create(self, request):
        data = validated(s.VisitInputSerializer, request)
        customer = data.pop("customer")
        visit = services.visit_create(customer=customer, by=request.user, contacts=data.pop("contacts", []), **data)
        return Response(self.get_serializer(visit).data, status=status.HTTP_201_CREATED)


class FeedViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Billing feeds: a scoped list for people, a validated bulk upsert for the feed login.

    Who may post: admins, logins with the integration role, and any login holding the model's `add_`
    permission (`customers.add_spendrecord` / `customers.add_groupmember`).
    A feed names customers by id across the whole database: the permission is a system-wide grant."""

    row_serializer: type
    post_permission: str

    def create(self, request):
        if not (request.user.may_post_feeds or request.user.has_perm(self.post_permission)):
            raise PermissionDenied(_("Only the billing feed may post these records."))
        rows = s.validate_feed(request.data, self.row_serializer)
        return Response(self.upsert(rows))


@extend_schema_view(
    list=extend_schema(summary="List monthly spend", responses={200: s.SpendRecordSerializer(many=True), **INVALID}),
    create=extend_schema(
        summary="Upsert monthly spend (billing feed)",
        description='A JSON list of rows (or {"rows": [...]}), at most 5,000. Every row is checked first; any '
        "bad row answers 400 with errors under `errors.rows.<index>` and nothing is written. A row for the same "
        "customer, month and category replaces the amount.",
        request=s.SpendRowSerializer(many=True),
        responses={200: s.FeedResultSerializer, **INVALID, **FORBIDDEN},
    ),
)
class SpendViewSet(FeedViewSet):
    queryset = SpendRecord.objects.none()
    serializer_class = s.SpendRecordSerializer
    filterset_class = filters.SpendFilterSet
    row_serializer = s.SpendRowSerializer
    post_permission = "customers.add_spendrecord"

    def get_queryset(self):
        spend = SpendRecord.objects.visible_to(self.request.user)
        return spend if may_see_spend(self.request.user) else spend.none()

    def upsert(self, rows: list[dict]) -> dict:
        return services.spend_upsert(
            rows=[services.SpendRow(customer_id=r["customer"], month=r["month"], category=r["category"],
                                    amount=r["amount"]) for r in rows]
        )  # fmt: skip


@extend_schema_view(
    list=extend_schema(summary="List group members", responses={200: s.GroupMemberSerializer(many=True), **INVALID}),
    create=extend_schema(
        summary="Upsert group members (billing feed)",
        description='A JSON list of rows (or {"rows": [...]}), at most 5,000. Every row is checked first; any '
        "bad row answers 400 with errors under `errors.rows.<index>` and nothing is written. A row for the same "
        "customer and number updates the member.",
        request=s.MemberRowSerializer(many=True),
        responses={200: s.FeedResultSerializer, **INVALID, **FORBIDDEN},
    ),
)
class MemberViewSet(FeedViewSet):
    queryset = GroupMember.objects.none()
    serializer_class = s.GroupMemberSerializer
    filterset_class = filters.MemberFilterSet
    row_serializer = s.MemberRowSerializer
    post_permission = "customers.add_groupmember"

    def upsert(self, rows: list[dict]) -> dict:
        return services.members_upsert(
            rows=[services.MemberRow(customer_id=r["customer"], msisdn=r["msisdn"], status=r["status"],
                                     joined_on=r["joined_on"], left_on=r["left_on"]) for r in rows]
        )  # fmt: skip
