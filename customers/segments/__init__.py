"""Saved segments (seed 003 客户细分): criteria.py is the criteria registry higher apps plug into, services.py
writes, selectors.py reads (members, movement report), exports.py downloads; who may share or change a segment
is customers.policy."""
