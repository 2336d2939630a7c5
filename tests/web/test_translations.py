from __future__ import annotations

from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from lms.config import PROJECT_ROOT

CATALOGUE = PROJECT_ROOT / "lms" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def test_every_interface_string_has_an_english_translation() -> None:
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    missing = [m.id for m in catalogue if m.id and (not m.string or m.fuzzy)]
    assert missing == []
    assert len(catalogue) > 150


def test_pages_switch_to_english(client: FlaskClient) -> None:
    html = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "Log in" in html and "Đăng nhập" not in html.split("</nav>")[1]
    assert "Đăng nhập" in client.get("/login?lang=vi").get_data(as_text=True)


def test_the_language_is_switched_by_a_form_and_stays_chosen(client: FlaskClient) -> None:
    from tests.conftest import preference_token

    page = client.get("/courses").get_data(as_text=True)
    assert 'href="?lang=en"' not in page and 'name="lang" value="en"' in page
    r = client.post("/settings/language?next=/courses",
                    data={"preference_token": preference_token(client), "lang": "en"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/courses")
    assert '<html lang="en">' in client.get("/courses").get_data(as_text=True)
    client.post("/settings/language", data={"preference_token": preference_token(client), "lang": "vi"})
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)
