from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.utils.cache import patch_cache_control


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Deny every page by default; the API authenticates itself (session or token) and answers 401/403."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class NoStoreWhenSignedInMiddleware:
    """`Cache-Control: no-store` on every answer to a signed-in request, pages and API alike: no browser or proxy
    keeps a copy of customer data. Token callers count too (DRF sets `request.user` on the Django request once it
    has authenticated them). Anonymous answers (the login page; static files never get here) stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
