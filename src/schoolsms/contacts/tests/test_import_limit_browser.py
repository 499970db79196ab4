"""In Chromium, against the real server (`schoolsms serve`, gunicorn): a file over the upload
limit is refused with the limit named on the import page, and nothing of it is kept, although
the server never reads the body the browser sends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from schoolsms import testing
from schoolsms.contacts.models import ImportJob
from schoolsms.core.tests.serving import serving

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_file_over_the_limit_is_refused_with_the_limit_named(
    page: Any, admin_user: Any, tmp_path: Path, settings: Any
) -> None:
    # The server checks passwords with the production hasher, not the tests' fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    admin_user.set_password(testing.PASSWORD)
    admin_user.save()
    big = tmp_path / "district.csv"
    big.write_bytes(b"external_id,first_name,last_name\n" + b"D1,Ann,Lee\n" * 2_000_000)  # 22 MB
    var = tmp_path / "var"
    with serving(SCHOOLSMS_MAX_UPLOAD_MB="1", SCHOOLSMS_VAR_DIR=str(var)) as base:
        page.goto(f"{base}/login/")
        page.get_by_label("Email").fill(admin_user.email)
        page.get_by_label("Password").fill(testing.PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{base}/contacts/import/")
        expect(page.get_by_text("Up to 1 MB.")).to_be_visible()
        page.get_by_label("File", exact=True).set_input_files(big)
        page.get_by_role("button", name="Import").click()
        expect(page.get_by_role("alert")).to_contain_text(
            "The file is larger than the 1 MB upload limit, so it was not read."
        )
        expect(page.get_by_role("heading", name="Import contacts")).to_be_visible()
    assert not ImportJob.objects.exists()
    imports = var / "imports"
    assert not imports.exists() or not any(imports.iterdir())
