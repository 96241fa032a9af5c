"""The HTTP surface of each function: one module per function, each exposing ``api``.

A module here maps routes to the service layer and back; it holds no business logic.
"""
