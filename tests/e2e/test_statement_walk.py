# Proves on the local stack, with the demo loaded as `make run` loads it, that the demo partner user
# downloads their usage statement as CSV and PDF through the links, and reads no other partner's.
from __future__ import annotations

import io
import urllib.request
from datetime import timedelta

from pypdf import PdfReader

OWN, OTHER = "p-leine-logistik", "m-garbsen"  # the demo partner user's company, and another partner


def fetch(url: str) -> bytes:
    assert "X-Amz-Expires=300" in url  # valid 5 minutes (moto itself does not enforce the expiry)
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read()


def test_the_partner_user_downloads_their_statement_as_csv_and_pdf(api, demo) -> None:
    loaded = demo["loaded_at"].date()
    days = f"from={(loaded - timedelta(days=300)).isoformat()}&to={(loaded + timedelta(days=30)).isoformat()}"
    status, body = api.get(f"/partners/{OWN}/statement?{days}", as_="partner")
    assert status == 200 and body["partner_id"] == OWN and body["threshold"] == 5, body
    status, links = api.get(f"/partners/{OWN}/statement/documents?{days}", as_="partner")
    assert status == 200 and links["expires_in"] == 300, links
    csv = fetch(links["csv"]).decode("utf-8")
    assert "month;consultations;emergencies;transports;care_hours" in csv
    pdf = fetch(links["pdf"])
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Nutzungsnachweis Leine Logistik" in text
    status, refused = api.get(f"/partners/{OTHER}/statement?{days}", as_="partner")
    assert status == 403 and refused["errors"][0]["field"] == "path.partner_id"
