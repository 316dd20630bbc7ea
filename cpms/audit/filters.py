"""The audit log's filters, one FilterSet for the page, its CSV export and the API: a value
it cannot apply is refused naming the filter (a form error, a 400)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from cpms.api.base import time_range
from cpms.audit.models import ActorKind, AuditEntry, ObjectType, Verb


class AuditEntryFilter(filters.FilterSet):
    actor = filters.CharFilter(
        field_name="actor_label",
        lookup_expr="icontains",
        label=_("Who: part of the person's email or the key's name or prefix."),
    )
    actor_kind = filters.ChoiceFilter(choices=ActorKind.choices, label=_("Person or API key"))
    action = filters.ChoiceFilter(choices=Verb.choices, label=_("Action"))
    object_type = filters.ChoiceFilter(choices=ObjectType.choices, label=_("Object type"))
    object_id = filters.CharFilter(label=_("Object id"))
    since, until = time_range("at")
    q = filters.CharFilter(method="search", label=_("Text anywhere in the entry"))

    class Meta:
        model = AuditEntry
        fields = ["actor", "actor_kind", "action", "object_type", "object_id", "since", "until"]

    def search(self, queryset: QuerySet[AuditEntry], name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(object_label__icontains=value)
            | Q(actor_label__icontains=value)
            | Q(object_id=value)
            | Q(changes__icontains=value)
        )


# The query parameters the filters read, for the page's links.
FILTER_NAMES = list(AuditEntryFilter.base_filters)
