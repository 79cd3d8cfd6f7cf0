"""The problems the form loader reports, as translatable messages with named parameters.

Built at each call, so a problem reads in the language of whoever is reading it:
the administrator's in the editor, the environment's on the command line.
"""

from __future__ import annotations

from intake.i18n import gettext as _


def page_name_twice(name: str) -> str:
    return _("the page name '%(name)s' is used twice", name=name)


def field_name_used(name: str, line: int) -> str:
    return _("the field name '%(name)s' is already used on line %(line)s", name=name, line=line)


def reserved(name: str) -> str:
    return _("'%(name)s' is reserved; choose another name", name=name)


def depends_on_itself(name: str, others: str) -> str:
    return _(
        "the calculation of '%(name)s' depends on itself through %(others)s",
        name=name,
        others=others,
    )


def key_does_not_apply(key: str, kind: str) -> str:
    return _("'%(key)s' does not apply to a %(type)s field", key=key, type=kind)


def needs_label(kind: str, name: str) -> str:
    return _("the %(type)s field '%(name)s' needs a label", type=kind, name=name)


def needs_calculation(name: str) -> str:
    return _("the calculate field '%(name)s' needs a calculation", name=name)


def needs_choices(kind: str, name: str) -> str:
    return _("the %(type)s field '%(name)s' needs choices or a choice_list", type=kind, name=name)


def no_choice_list(name: str) -> str:
    return _("there is no choice list called '%(name)s'", name=name)


def choice_name_twice(name: str) -> str:
    return _("the choice name '%(name)s' is used twice", name=name)


def default_does_not_fit(error: str) -> str:
    return _("the default does not fit the field: %(error)s", error=error)


def no_translation(what: str, language: str) -> str:
    return _("%(what)s has no '%(language)s' translation", what=what, language=language)


def not_a_form_language(language: str) -> str:
    return _("'%(language)s' is not one of the form's languages", language=language)
