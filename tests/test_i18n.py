"""Languages: every template marks what it shows, every marked message is translated into each
language the product offers, and each person reads the language they chose.

To translate: mark text in templates with `{% translate %}` / `{% blocktranslate trimmed %}`
(and in Python with `gettext` / `gettext_lazy`), run `make messages` (needs GNU gettext), fill in
the new entries of `locale/<lang>/LC_MESSAGES/django.po` for de, fr and es, and run the tests
(they compile the catalogs). An app may keep its own catalog in `<app>/locale/`.
"""

import importlib
import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from cpms.catalogs import compile_catalogs
from cpms.models import User
from cpms.texts import MESSAGES
from tests import i18n_lint

# Templates whose text is still to be marked. This list only shrinks: a test fails when an entry
# has nothing left to mark.
PENDING: tuple[str, ...] = ()
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
PLACEHOLDERS = re.compile(r"%\((\w+)\)[sd]|\{(\w*)\}")


def _pending(name: str) -> bool:
    return any(
        name == entry or (entry.endswith("/") and name.startswith(entry)) for entry in PENDING
    )


def _template_names() -> list[str]:
    return [str(p.relative_to(i18n_lint.ROOT)) for p in i18n_lint.templates()]


@pytest.mark.parametrize("name", [n for n in _template_names() if not _pending(n)])
def test_a_template_marks_all_the_text_it_shows(name):
    unmarked = i18n_lint.unmarked_text(i18n_lint.ROOT / name)
    assert not unmarked, "Text shown without a translation tag:\n" + "\n".join(map(str, unmarked))


def test_the_pending_list_names_only_templates_with_text_to_mark():
    templates = _template_names()
    for entry in PENDING:
        names = [n for n in templates if n == entry or n.startswith(entry)]
        assert names, f"{entry} names no template: remove it from PENDING"
        unmarked = [u for n in names for u in i18n_lint.unmarked_text(i18n_lint.ROOT / n)]
        assert unmarked, f"{entry} is fully marked: remove it from PENDING"


def _django_translates(message: i18n_lint.Message, language: str) -> bool:
    """Django's own catalogs translate some messages a template uses (the admin's title)."""
    if message.plural or message.context:
        return False
    with translation.override(language):
        return translation.gettext(message.msgid) != message.msgid


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_marked_message_is_translated(language):
    done = i18n_lint.translated(language)
    missing = [
        f"{where}: {message.msgid!r}"
        for message, where in i18n_lint.all_messages().items()
        if message not in done and not _django_translates(message, language)
    ]
    assert not missing, (
        f"{len(missing)} messages without a {language} translation (run `make messages` and "
        f"fill in locale/{language}/LC_MESSAGES/django.po):\n" + "\n".join(missing[:50])
    )


def _stored_text_messages() -> dict:
    """Every message a stored text may name: each package registers its own in `texts.py`."""
    for path in i18n_lint.python_sources():
        if path.name == "texts.py":
            importlib.import_module(
                ".".join(path.relative_to(i18n_lint.ROOT).with_suffix("").parts)
            )
    return dict(MESSAGES)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_stored_text_message_is_translated(language):
    registered = _stored_text_messages()
    done = {m.msgid for m in i18n_lint.translated(language) if not m.plural and not m.context}
    missing = [f"{code}: {m.msgid!r}" for code, m in registered.items() if m.msgid not in done]
    assert {"alert.charger_offline", "load.shared", "session.stop.stale"} <= set(registered)
    assert not missing, (
        f"Stored texts without a {language} translation (mark the msgid with gettext_noop "
        "where it is registered, and translate it):\n" + "\n".join(missing)
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_of_their_message(language):
    wrong = []
    for path in i18n_lint.catalogs(language):
        for entry in i18n_lint.polib.pofile(str(path)):
            texts = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
            wanted = set(PLACEHOLDERS.findall(entry.msgid))
            wrong += [
                f"{path.name}: {entry.msgid!r} -> {text!r}"
                for text in texts
                if text and set(PLACEHOLDERS.findall(text)) != wanted
            ]
    assert not wrong, "\n".join(wrong)


@pytest.fixture
def compiled():
    compile_catalogs()


def test_a_person_reads_pages_in_the_language_they_chose(client, compiled, alice):
    User.objects.filter(pk=alice.pk).update(language="de")
    client.force_login(alice)

    page = client.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="fr")

    assert page["Content-Language"] == "de"
    assert '<html lang="de">' in page.content.decode()
    assert "Ihr Konto" in page.content.decode()


def test_without_a_choice_the_browser_language_is_used(client, compiled, bob):
    client.force_login(bob)

    page = client.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")

    assert page["Content-Language"] == "es"
    assert "Su cuenta" in page.content.decode()


def test_a_person_chooses_a_language_for_every_page(client, compiled, bob):
    client.force_login(bob)

    answer = client.post(reverse("account"), {"language": "fr"}, follow=True)

    bob.refresh_from_db()
    assert bob.language == "fr"
    assert "Votre langue est enregistrée." in answer.content.decode()
    assert "Votre compte" in client.get(reverse("account")).content.decode()


def test_an_unknown_language_is_refused_and_nothing_changes(client, compiled, bob):
    User.objects.filter(pk=bob.pk).update(language="es")
    client.force_login(bob)

    answer = client.post(reverse("account"), {"language": "xx"})

    bob.refresh_from_db()
    assert bob.language == "es"
    assert answer.status_code == 200
    assert "language" in answer.context["form"].errors


def test_a_german_user_gets_a_german_invitation_email(
    client, compiled, alice, charlie, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=charlie.pk).update(language="de")
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("member_create", kwargs={"tenant_slug": "tenant-a"}),
            {"email": "charlie@b.test", "role": "operator"},
            HTTP_ACCEPT_LANGUAGE="en",
        )

    (message,) = mail.outbox
    assert message.subject == "Sie wurden zu Tenant A auf CPMS eingeladen"
    assert "Tenant A lädt Sie ein, auf CPMS mitzuarbeiten, als operator." in message.body
    assert "nachdem Sie sich als charlie@b.test angemeldet haben" in message.body


def test_a_new_account_is_invited_in_the_inviters_language(
    client, compiled, alice, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=alice.pk).update(language="fr")
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("member_create", kwargs={"tenant_slug": "tenant-a"}),
            {"email": "nouvelle@a.test", "role": "viewer"},
        )

    (message,) = mail.outbox
    assert message.subject == "Vous avez été invité(e) chez Tenant A sur CPMS"
    assert "Choisissez votre mot de passe pour vous connecter" in message.body


def test_a_password_reset_email_is_written_in_the_persons_language(client, compiled, bob):
    User.objects.filter(pk=bob.pk).update(language="es")

    client.post(reverse("password_reset"), {"email": "bob@a.test"}, HTTP_ACCEPT_LANGUAGE="en")

    (message,) = mail.outbox
    assert message.subject == "Restablezca su contraseña de CPMS"
    assert "Elija una nueva aquí:" in message.body


def test_a_password_reset_page_follows_the_browser_of_an_anonymous_visitor(client, compiled):
    page = client.get(reverse("password_reset"), HTTP_ACCEPT_LANGUAGE="de")

    assert "Setzen Sie Ihr Passwort zurück" in page.content.decode()


def test_a_pages_language_ends_with_its_answer(client, compiled, bob):
    client.force_login(bob)

    client.get(reverse("account"), HTTP_ACCEPT_LANGUAGE="de")

    assert translation.get_language() == settings.LANGUAGE_CODE
