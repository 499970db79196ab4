from __future__ import annotations

import pytest

from schoolsms.reports.keyset import BadCursor
from schoolsms.reports.selectors import SmsLogFilter, sms_log_page, sms_log_queryset
from schoolsms.reports.tests.conftest import District, local_noon
from schoolsms.reports.tests.factories import make_message

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("sort", ["date", "phone", "delivered", "result", "broadcast"])
@pytest.mark.parametrize("descending", [True, False])
def test_walking_pages_forward_and_back_visits_every_row_once_in_order(
    district: District, sort: str, descending: bool
) -> None:
    # Equal sort values (ties), NULL phones and NULL delivered times across page edges.
    for i in range(9):
        make_message(
            district.snow,
            district.cal,
            None if i % 3 == 0 else f"+1217555{2000 + i % 4}",
            "sent",
            at=local_noon(i % 3 + 1),
            delivered_at=local_noon(1) if i % 2 else None,
        )
    f = SmsLogFilter.default(district.org, sort=sort, descending=descending)
    expected_count = sms_log_queryset(f).count()
    pages = [sms_log_page(f, size=4)]
    while pages[-1].next_cursor:
        pages.append(sms_log_page(f, after=pages[-1].next_cursor, size=4))
    ids = [m.id for p in pages for m in p.rows]
    assert len(ids) == len(set(ids)) == expected_count == 16
    if sort in ("phone", "delivered"):
        field = "phone" if sort == "phone" else "delivered_at"
        rows = [m for p in pages for m in p.rows]
        nulls = [(m.created_at, m.id) for m in rows if getattr(m, field) is None]
        rest = [(getattr(m, field), m.id) for m in rows if getattr(m, field) is not None]
        # NULLs come last ascending and first descending, in creation order; the rest in order.
        assert len(nulls) + len(rest) == len(rows)
        if descending:
            assert all(getattr(m, field) is None for m in rows[: len(nulls)])
        else:
            assert all(getattr(m, field) is not None for m in rows[: len(rest)])
        assert rest == sorted(rest, reverse=descending)
        assert nulls == sorted(nulls, reverse=descending)
    else:
        field = {"date": "created_at", "result": "result", "broadcast": "broadcast_id"}[sort]
        keys = [(getattr(m, field), m.id) for p in pages for m in p.rows]
        assert keys == sorted(keys, reverse=descending)
    # Going back from the last page returns exactly the pages seen on the way.
    back = pages[-1]
    for expected in reversed(pages[:-1]):
        back = sms_log_page(f, before=back.prev_cursor, size=4)
        assert [m.id for m in back.rows] == [m.id for m in expected.rows]
    assert back.prev_cursor is None


def test_a_forged_cursor_is_refused(district: District) -> None:
    f = SmsLogFilter.default(district.org)
    with pytest.raises(BadCursor):
        sms_log_page(f, after="bm90IGEgY3Vyc29y")
