"""stats: reviews per day, true retention, streak, cards by state, due forecast.

GET /stats?days=30
"""

import functions_framework

from aksio.endpoints.stats import api


@functions_framework.http
def stats(request):
    return api(request)
