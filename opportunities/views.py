from django.http import HttpResponse


def detail(request, pk):
    return HttpResponse(str(pk))
