"""notifications: the signed-in user's push devices and in-app inbox.

POST|GET /notifications/devices, DELETE /notifications/devices/{deviceId};
GET /notifications?limit=&cursor=, GET /notifications/unread, POST /notifications/{id}/read.
"""

import functions_framework

from aksio.endpoints.notifications import api


@functions_framework.http
def notifications(request):
    return api(request)
