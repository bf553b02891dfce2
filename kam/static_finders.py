"""Where collectstatic looks for files: the apps' static folders, less what KAM never serves."""

from django.contrib.staticfiles import finders

# The API-docs package ships ReDoc beside Swagger UI; KAM serves Swagger UI only, and ReDoc's bundle names files
# on other servers. Nothing unused that points outside is collected.
UNUSED = ["drf_spectacular_sidecar/redoc/*"]


class AppDirectoriesFinder(finders.AppDirectoriesFinder):
    def list(self, ignore_patterns):
        return super().list([*(ignore_patterns or []), *UNUSED])
