"""Helpers shared by the API routers of every app: bounded ids and pagination."""

from __future__ import annotations

from typing import Annotated

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

from schoolsms.inputs import DB_INT_MAX

# An id in a path or a query: a bigger number names no row and would make the database driver
# raise, so the schema bounds it and a request with one gets a 422 naming the parameter.
DbId = Annotated[int, Field(ge=1, le=DB_INT_MAX)]


class Pagination(LimitOffsetPagination):
    """`limit` and `offset`, bounded so a page number can never overflow the database."""

    class Input(Schema):
        limit: int = Field(100, ge=1, le=1000)
        offset: int = Field(0, ge=0, le=DB_INT_MAX)
