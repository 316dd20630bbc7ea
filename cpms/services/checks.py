"""Checks that several services share."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _


def unique_in_tenant(
    model: type[models.Model], *, field: str, value: str, instance: models.Model | None = None
) -> None:
    """Refuse a value another row of the active tenant has in `field`, ignoring case: the
    database's unique constraints are on Lower()/Upper() expressions that forms and serializers
    cannot see, so services check before they write (the constraint still decides a race)."""
    clash = model._default_manager.filter(**{f"{field}__iexact": value})
    if instance is not None and instance.pk:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        model_field = model._meta.get_field(field)
        label = model_field.verbose_name if isinstance(model_field, models.Field) else field
        raise ValidationError(
            {
                field: [
                    _("A %(model)s with this %(field)s exists already.")
                    % {"model": model._meta.verbose_name, "field": label}
                ]
            }
        )
