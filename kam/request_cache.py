"""A per-request memo: values computed once per HTTP request (the middleware opens the scope).
Outside a request (services called from tasks, commands or tests) nothing is cached, so a value
can never outlive the request that computed it."""

from collections.abc import Callable
from contextvars import ContextVar

_scope: ContextVar[dict | None] = ContextVar("kam_request_cache", default=None)


def memo[T](key, compute: Callable[[], T]) -> T:
    store = _scope.get()
    if store is None:
        return compute()
    if key not in store:
        store[key] = compute()
    return store[key]


def clear() -> None:
    """Forget what this request computed (after a write that changes it, e.g. a handover)."""
    store = _scope.get()
    if store is not None:
        store.clear()


class RequestCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _scope.set({})
        try:
            return self.get_response(request)
        finally:
            _scope.reset(token)
