"""Provisioning: the closed loop from a submitted order to accepted subscriptions (written in its own change)."""


def start_order_by_id(order_id: int) -> None:
    raise NotImplementedError
