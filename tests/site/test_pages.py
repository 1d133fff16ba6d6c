"""Every public page: the number, urgent help and the exit button everywhere, languages, no
third-party request, advice from data files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from starlette.types import Message, Receive, Scope, Send

from services.site.content import CONTENT, Library
from services.site.i18n import TRANSLATIONS
from services.site.kept import ServeKept, keep
from tests.site.conftest import SiteHarness

PAGES = ["/", "/advice", "/advice/wobbly-day", "/self-assessment", "/contact", "/help",
         "/accessibility", "/privacy"]
ADVICE = Library().slugs


def html_lang(text: str) -> str:
    found = re.search(r'<html lang="([a-z]+)"', text)
    assert found
    return found.group(1)


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_has_urgent_help_the_exit_button_and_our_number(
        site: SiteHarness, path: str) -> None:
    resp = await site.client.get(path)
    assert resp.status_code == 200
    text = resp.text
    for number in ('href="tel:999"', 'href="tel:111"', "option 2", 'href="tel:116123"',
                   "SHOUT", "85258", 'id="urgent-help"', "nhsuk-card--care--urgent"):
        assert number in text, number
    assert 'id="exit-this-page"' in text and 'href="https://www.bbc.co.uk/weather"' in text
    assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert html_lang(text) == "en"


@pytest.mark.parametrize("path", PAGES)
async def test_no_page_loads_anything_from_another_site(site: SiteHarness, path: str) -> None:
    text = (await site.client.get(path)).text
    loaded = re.findall(r'<(?:script|img|iframe)[^>]*\bsrc="([^"]+)"', text)
    loaded += re.findall(r'<link[^>]*\bhref="([^"]+)"', text)
    assert loaded and all(url.startswith("/static/site/") for url in loaded), loaded
    assert "<script>" not in text and "onclick" not in text  # the CSP allows no inline script


async def test_home_says_who_it_is_for_and_how_to_reach_us(site: SiteHarness) -> None:
    text = (await site.client.get("/")).text
    assert 'href="tel:+442079460000"' in text and "020 7946 0000" in text
    assert 'href="mailto:help@livingwell.example"' in text
    assert "24 hours a day, 7 days a week" in text and "do not need a referral" in text


@pytest.mark.parametrize("slug", ADVICE)
async def test_each_advice_page_ends_with_how_to_reach_the_line(site: SiteHarness,
                                                                slug: str) -> None:
    text = (await site.client.get(f"/advice/{slug}")).text
    main = text[text.index('id="maincontent"'):text.index("</main>")]
    assert main.rindex('id="reach-us"') > main.index("lw-advice")
    assert 'href="tel:+442079460000"' in main and "mailto:help@livingwell.example" in main


def test_the_advice_asked_for_is_all_there() -> None:
    assert set(ADVICE) >= {"wobbly-day", "housing", "debt", "benefits", "work", "loneliness",
                           "alcohol-and-drugs", "carers-and-families", "professionals"}


async def test_a_missing_advice_page_is_a_404_page_of_the_same_design(site: SiteHarness) -> None:
    resp = await site.client.get("/advice/no-such-thing")
    assert resp.status_code == 404 and 'id="urgent-help"' in resp.text


async def test_accept_language_chooses_polish_and_the_cookie_wins(site: SiteHarness) -> None:
    resp = await site.client.get("/", headers={"accept-language": "pl-PL,pl;q=0.9,en;q=0.5"})
    assert html_lang(resp.text) == "pl" and resp.headers["content-language"] == "pl"
    assert "Porozmawiaj z kimś" in resp.text and "Opuść tę stronę" in resp.text
    resp = await site.client.get("/", headers={"accept-language": "pl", "cookie": "lang=es"})
    assert html_lang(resp.text) == "es" and "Salir de esta página" in resp.text
    resp = await site.client.get("/", headers={"accept-language": "pt-BR"})
    assert html_lang(resp.text) == "pt"
    resp = await site.client.get("/", headers={"accept-language": "fr, de;q=0.8"})
    assert html_lang(resp.text) == "en"


async def test_the_switcher_remembers_the_language_and_goes_back(site: SiteHarness) -> None:
    resp = await site.client.get("/lang/pl", params={"next": "/advice/debt"})
    assert resp.status_code == 303 and resp.headers["location"] == "/advice/debt"
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith("lang=pl;") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = await site.client.get("/advice/debt", headers={"cookie": "lang=pl"})
    assert html_lang(page.text) == "pl" and "Pieniądze i długi" in page.text
    away = await site.client.get("/lang/pl", params={"next": "//evil.example/x"})
    assert away.headers["location"] == "/"
    assert (await site.client.get("/lang/xx")).status_code == 404


async def test_an_untranslated_advice_page_says_so_and_marks_its_language(
        site: SiteHarness, tmp_path: Path) -> None:
    # Every page is translated now: a library where one is not (a new page, say).
    for lang in ("en", "pl"):
        (tmp_path / lang).mkdir()
        shutil.copy(CONTENT / lang / "debt.md", tmp_path / lang / "debt.md")
    shutil.copy(CONTENT / "en" / "benefits.md", tmp_path / "en" / "benefits.md")
    site.app.state.parts.library = Library(tmp_path)
    text = (await site.client.get("/advice/benefits", headers={"cookie": "lang=pl"})).text
    assert html_lang(text) == "pl" and '<article lang="en">' in text
    assert "nie jest jeszcze przetłumaczona" in text


@pytest.mark.parametrize("lang", ["pl", "pt", "es"])
def test_every_advice_page_is_in_each_language_with_its_own_review_date(lang: str) -> None:
    library = Library()
    for slug in ADVICE:
        page = library.get(slug, lang)
        assert page is not None and page.language == lang, slug
        english = library.get(slug, "en")
        assert english is not None and page.order == english.order
        assert page.reviewed >= english.reviewed  # not older than the text it translates


async def test_the_self_assessment_shows_the_published_translation(site: SiteHarness) -> None:
    text = (await site.client.get("/self-assessment", headers={"cookie": "lang=pl"})).text
    assert "Myśli, że lepiej byłoby umrzeć" in text and "Niemal codziennie" in text


async def test_static_files_are_kept_by_the_browser_for_an_hour(site: SiteHarness) -> None:
    css = await site.client.get("/static/site/site.css")
    assert css.headers["cache-control"] == "public, max-age=3600"


PUBLIC_PAGES = ["/", "/advice", "/advice/wobbly-day", "/help", "/accessibility", "/privacy"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
async def test_pages_the_same_for_everyone_may_be_kept_for_five_minutes_per_language(
        site: SiteHarness, path: str) -> None:
    first = await site.client.get(path)  # rendered by the route
    again = await site.client.get(path)  # sent as kept, before routing
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and first.headers["etag"] == again.headers["etag"]
    for resp in (first, again):
        assert resp.headers["cache-control"] == "public, max-age=300"
        assert resp.headers["vary"] == "Accept-Language, Cookie"
        assert resp.headers["content-language"] == "en"
        assert resp.headers["content-security-policy"].startswith("default-src 'self'")
        assert resp.headers["content-type"] == "text/html; charset=utf-8"
    polish = await site.client.get(path, headers={"cookie": "lang=pl"})
    assert html_lang(polish.text) == "pl" and polish.headers["content-language"] == "pl"
    assert polish.headers["etag"] != first.headers["etag"]
    by_header = await site.client.get(path, headers={"accept-language": "pl-PL,pl;q=0.9"})
    assert by_header.content == polish.content
    unchanged = await site.client.get(path, headers={"if-none-match": first.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == first.headers["etag"]
    stale = await site.client.get(path, headers={"if-none-match": polish.headers["etag"]})
    assert stale.status_code == 200 and stale.content == first.content


@pytest.mark.parametrize("path", ["/self-assessment", "/contact"])
async def test_forms_are_never_kept_by_a_browser_or_a_cache(site: SiteHarness, path: str) -> None:
    for _ in range(2):  # rendered, then from memory
        resp = await site.client.get(path)
        assert resp.headers["cache-control"] == "no-store" and "etag" not in resp.headers


async def test_a_kept_page_still_needs_the_internal_token(site: SiteHarness) -> None:
    assert (await site.client.get("/help")).status_code == 200
    resp = await site.client.get("/help", headers={"x-internal-token": "wrong"})
    assert resp.status_code == 403
    assert (await site.client.get("/advice/no-such-page")).status_code == 404


async def test_a_kept_page_is_sent_before_routing_in_the_requests_language() -> None:
    async def router(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("routed")

    kept = {("pl", "/help"): keep("<p>pomoc</p>", "pl", None, route="help-route")}
    app = ServeKept(router, kept)
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "GET", "path": "/help",
                    "headers": [(b"cookie", b"other=1; lang=pl")]}
    await app(scope, _no_body, send)
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"<p>pomoc</p>"
    assert scope["route"] == "help-route"  # the request metrics keep the route's label
    with pytest.raises(AssertionError, match="routed"):  # English is not kept yet: routed
        await app({**scope, "headers": []}, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b""}


@pytest.mark.parametrize("lang", ["pl", "pt", "es"])
def test_every_word_of_the_site_is_translated_in_every_plural_form(lang: str) -> None:
    """A template's new words, or a plural form left empty, would show English mid-page."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalogue = read_po(f, locale=lang)
    # The templates' words as they are now (what `make translations` extracts, babel.cfg).
    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}
    found = extract_from_dir(str(TRANSLATIONS.parent), [("templates/**.jinja", "jinja2")],
                             {"templates/**.jinja": options})
    wanted = {m[2] if isinstance(m[2], str) else m[2][0] for m in found}
    have = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in catalogue if m.id}
    assert wanted <= set(have), sorted(wanted - set(have))
    empty = [k for k, v in have.items()
             if not (all(v) if isinstance(v, tuple) else v)]
    assert not empty, empty
