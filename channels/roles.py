"""Role groups, each spelled once. Code asks `user.role in roles.PORTFOLIO`, never a tuple of literals;
a new role is added to `channels.models.Role` and to the groups it belongs to here.

Superusers are not in any group: the predicates that use these groups let them through themselves."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    SUPERVISOR = "supervisor", _("Supervisor / industry manager")
    PHONE_ACCOUNT_MANAGER = "phone_account_manager", _("Phone account manager")
    AGENT = "agent", _("Call-center agent")
    DISPATCHER = "dispatcher", _("Operations-center dispatcher")
    DATA_STEWARD = "data_steward", _("Data steward")
    ANALYST = "analyst", _("Analyst")
    ADMIN = "admin", _("Administrator")
    INTEGRATION = "integration", _("System integration (billing feed)")
    PARTNER = "partner", _("Partner agent staff")
    WORKSTATION_EXECUTOR = "workstation_executor", _("Workstation executor")
    WORKSTATION_MANAGER = "workstation_manager", _("Workstation manager")


# Own customers directly (the customer's `account_manager`).
ACCOUNT_MANAGERS = frozenset({Role.ACCOUNT_MANAGER, Role.PHONE_ACCOUNT_MANAGER})
# Serve a portfolio of customers (their own, or their teams'): may be given customers in a handover.
PORTFOLIO = ACCOUNT_MANAGERS | {Role.SUPERVISOR}
# Receive, claim and work leads and opportunities (the sales-service channels and partner staff).
SERVING = PORTFOLIO | {Role.PARTNER}
# See every customer without a portfolio (agents and dispatchers look up; stewards clean; analysts read).
SEE_ALL_CUSTOMERS = frozenset({Role.DATA_STEWARD, Role.ANALYST, Role.AGENT, Role.DISPATCHER, Role.ADMIN})
# See every customer but change none (caller lookup and dispatch only).
LOOKUP_ONLY = frozenset({Role.AGENT, Role.DISPATCHER})
# Read everything, write nothing.
READ_ONLY = frozenset({Role.ANALYST})
# Logins that are systems, not people (the billing feed).
SYSTEMS = frozenset({Role.INTEGRATION})
# See every opportunity (the operations center and readers).
SEE_ALL_OPPORTUNITIES = frozenset({Role.DISPATCHER, Role.ANALYST, Role.ADMIN})
# Analysis pages over what they may see: tiers, segments, pipeline figures.
MANAGEMENT = frozenset({Role.SUPERVISOR, Role.ANALYST, Role.ADMIN})
# Coverage of the channel matrix: the portfolio roles and those who check them.
COVERAGE = PORTFOLIO | {Role.ANALYST, Role.DATA_STEWARD, Role.ADMIN}
# Approve tier overrides and the like: supervisors (their teams) and admins.
APPROVERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
# The home dashboard (tiers, revenue, moves, coverage gaps) over what they may see: who serves portfolios
# and who oversees them. Agents and dispatchers route contacts: they get the start links instead.
DASHBOARD = COVERAGE
# Staff of outside companies (partner agents): they work the opportunities sent to their company, and see
# nothing of the operator's own organisation (no staff phone numbers, no segments, no customer records to add).
EXTERNAL = frozenset({Role.PARTNER})
# Data stewardship: duplicates, merges, imports.
STEWARDS = frozenset({Role.DATA_STEWARD, Role.ADMIN})
# Provisioning staff (工位): they work the steps of work orders at their workstation and see the orders those
# steps belong to, not the customer base.
WORKSTATIONS = frozenset({Role.WORKSTATION_EXECUTOR, Role.WORKSTATION_MANAGER})
