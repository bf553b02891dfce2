"""Segment exports: the members of a segment that the user may see, as CSV or XLSX, with every member (no cap).
Small ones are downloaded at once, large ones prepared in the background (channels.exports); the columns are
customers.exports' (finance only for those who may see it). The "segment" export kind is registered by
customers.exports.register(); whoever can no longer see the segment can no longer download its file."""

from channels.exports import ExportRefused, ExportSource
from channels.models import User
from customers.exports import customer_source
from customers.models import Segment
from customers.segments.selectors import member_rows, segment_detail, segment_members
from kam.validators import parse_id

SEGMENT = "segment"


def segment_parameters(segment: Segment) -> dict:
    return {"segment": segment.pk}


def segment_export_source(segment: Segment, *, user: User) -> ExportSource:
    """The members the user may see, newest first. The member query is built now: a definition that no longer
    applies raises ValidationError here, before any response starts or any file is written."""
    return customer_source(user, member_rows(segment_members(segment, user=user)), title=segment.name)


def segment_source(user: User, parameters: dict) -> ExportSource:
    pk = parse_id(parameters.get("segment"))
    if pk is None:
        raise ExportRefused(SEGMENT)
    try:
        segment = segment_detail(user=user, pk=pk)
    except Segment.DoesNotExist:
        raise ExportRefused(SEGMENT) from None
    return segment_export_source(segment, user=user)


def segment_allowed(user: User, parameters: dict) -> bool:
    """Still allowed to export the segment: it is still theirs or shared with them (Segment.objects.visible_to)."""
    pk = parse_id(parameters.get("segment"))
    return pk is not None and Segment.objects.visible_to(user).filter(pk=pk).exists()
