"""account: the signed-in user's profile, settings, usage, activity; deleting the account.

GET /account, PATCH /account {displayName?, settings?},
GET /account/settings, PATCH /account/settings {timezone?, newCardsPerDay?, ...},
GET /account/usage, GET /account/activity?limit&cursor,
DELETE /account {confirm: "DELETE"} (a sign-in within 5 minutes).
"""

import functions_framework
from werkzeug.exceptions import HTTPException

from aksio.endpoints.account import api


@functions_framework.http
def account(request):
    return api(request)


# functions-framework's own errors (its 404 for a path holding a line feed, robots.txt)
# go through the Api too, so every path answers in the JSON error shape.
functions_framework.errorhandler(HTTPException)(api.framework_error)
