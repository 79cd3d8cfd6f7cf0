"""The JSON API under /api/v1: personal access tokens only, no cookies, no CSRF, CORS closed.

Routes (views.py) parse, call one service function (service.py) and answer JSON; the
token guard (guard.py) lets a request through only within its token's scopes and its
user's permissions; every refusal is a JSON error body (errors.py), never a page.
"""
