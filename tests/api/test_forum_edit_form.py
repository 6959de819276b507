"""The idea edit form allows the title length the forum allows (``[forum] title_max``), as the
idea form does: a longer limit lets the author keep and save a long title, a shorter one stops
the browser before the server refuses it."""

from __future__ import annotations

import re

import pytest

from tests.helpers import sign_in_customer

# A title as people write them when the limit allows: a whole sentence.
LONG_TITLE = ("Let us export invoices, credit notes and refunds as one CSV per month, with the tax "
              "lines split by rate, so that our accountants stop retyping them into the ledger")


@pytest.mark.parametrize("title_max", [200, 60])
async def test_edit_form_allows_what_the_forum_allows(app_client, title_max: int) -> None:
    client = await app_client(customers=True, overrides={"forum.title_max": title_max})
    csrf = await sign_in_customer(client)
    title = LONG_TITLE[:title_max]
    made = await client.post("/forum/submit", data={"csrf": csrf, "title": title, "body": "please"},
                             allow_redirects=False)
    assert made.status == 303, await made.text()
    html = await (await client.get(made.headers["Location"] + "/edit")).text()
    field = re.search(r'<input name="title"[^>]*>', html)
    assert field, html
    assert f'maxlength="{title_max}"' in field.group(0)
    # The edit form sends the title back as it is: the server takes it.
    saved = await client.post(made.headers["Location"] + "/edit", data={
        "csrf": csrf, "title": title, "body": "please, monthly", "tags": ""}, allow_redirects=False)
    assert saved.status == 303, await saved.text()
