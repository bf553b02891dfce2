from django.urls import path

from service.views import board, desk, follow_ups, knowledge, survey, tickets

app_name = "service"

urlpatterns = [
    path("desk/", desk.desk, name="desk"),
    path("desk/ticket/", desk.desk_ticket, name="desk-ticket"),
    path("desk/prospect/", desk.desk_prospect, name="desk-prospect"),
    path("desk/customers/<int:pk>/flags/", desk.desk_flags, name="desk-flags"),
    path("tickets/mine/", tickets.my_queue, name="my-queue"),
    path("tickets/", board.ticket_list, name="ticket-list"),
    path("board/", board.wall_board, name="wall-board"),
    path("sla-report/", follow_ups.sla_report, name="sla-report"),
    path("follow-ups/", follow_ups.call_list, name="follow-ups"),
    path("follow-ups/<int:pk>/", follow_ups.record, name="follow-up-record"),
    path("survey/<str:token>/", survey.survey, name="survey"),
    path("kb/", knowledge.kb_list, name="kb-list"),
    path("kb/<int:pk>/", knowledge.kb_detail, name="kb-detail"),
    path("kb/<int:pk>/feedback/", knowledge.kb_feedback, name="kb-feedback"),
    path("tickets/<int:pk>/", tickets.ticket_detail, name="ticket-detail"),
    path("tickets/<int:pk>/opportunity/", tickets.ticket_opportunity, name="ticket-opportunity"),
    path("tickets/<int:pk>/apply/", tickets.ticket_apply, name="ticket-apply"),
    path("tickets/<int:pk>/fault-report/", tickets.ticket_fault_report, name="ticket-fault-report"),
    path("tickets/<int:pk>/<slug:action>/", tickets.ticket_action, name="ticket-action"),
]
