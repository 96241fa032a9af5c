"""account: the signed-in user's profile and study settings.

GET /account, PATCH /account {displayName?, settings?},
GET /account/settings, PATCH /account/settings {timezone?, newCardsPerDay?, ...}.
"""

import functions_framework

from aksio.endpoints.account import api


@functions_framework.http
def account(request):
    return api(request)
