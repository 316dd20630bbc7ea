"""A stored text in the API: the stable message code and its parameters, beside the English
sentence the resource's plain field keeps (`cpms.texts`), so an integrator can show it in its
own words and language."""

from rest_framework import serializers


class TextSerializer(serializers.Serializer):
    code = serializers.CharField(
        read_only=True, help_text="The message's stable code, e.g. `alert.charger_offline`."
    )
    params = serializers.DictField(
        read_only=True,
        help_text=(
            'The message\'s parameters: plain values, dates as `{"date": "YYYY-MM-DD"}`, '
            "or another text (`code` and `params`) for words within the sentence."
        ),
    )


def text_field() -> TextSerializer:
    """The read-only field of a stored text; null for rows written before texts had codes."""
    return TextSerializer(read_only=True, allow_null=True)
