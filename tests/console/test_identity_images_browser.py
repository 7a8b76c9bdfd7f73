"""An identity check's images in a real browser (Chromium via Playwright, a real server): the
thumbnails load from the app itself under the console's Content-Security-Policy, each links to
the full image, and axe-core finds nothing serious on the page."""

from __future__ import annotations

import pytest

from tests.console.helpers import make_staff
from tests.factories import PASSWORD
from tests.files_helpers import jpeg_with_gps, upload
from tests.onboarding.conftest import application_id_of, ok, submit_document

pytestmark = pytest.mark.committing


def _signed_in_page(new_page, staff):
    page = new_page()
    page.goto("/console/sign-in")
    page.locator("input[name=email]").fill(staff.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator("input[name=code]").fill(staff.code())
    page.locator("main form.stack button[type=submit]").click()
    page.wait_for_url("**/console/my-work")
    return page


def test_the_thumbnails_show_and_open_the_full_image(
    client, member, new_page, screenshot, check_accessibility
):
    ids = {}
    for slot in ("front", "back", "selfie"):
        response = upload(client, member, jpeg_with_gps(), purpose="identity_document")
        ids[f"{slot}_file_id"] = ok(response)["id"]
    check = ok(submit_document(client, member, **ids), 201)
    page = _signed_in_page(new_page, make_staff())
    refused = []
    page.on("console", lambda message: refused.append(message.text))
    page.on("requestfailed", lambda request: refused.append(request.url))
    page.goto(f"/console/onboarding/applications/{application_id_of(member)}")
    images = page.locator(f'[data-check="{check["id"]}"] .id-images img')
    assert images.count() == 3
    for index in range(3):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
    assert not [text for text in refused if "Content Security Policy" in text], refused
    check_accessibility(page)
    screenshot(page, "identity-images")
    href = page.locator(f'[data-check="{check["id"]}"] [data-image="front"] a').get_attribute(
        "href"
    )
    full = page.request.get(href)
    assert full.status == 200 and full.headers["content-type"] == "image/jpeg"
