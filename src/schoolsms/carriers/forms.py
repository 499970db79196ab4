"""The Settings page's carrier form, built from the chosen gateway's declared options."""

from __future__ import annotations

from typing import Any

from django import forms

from schoolsms.carriers.options import GatewayConfig


class GatewayChoiceForm(forms.Form):
    gateway = forms.ChoiceField(label="Carrier gateway")

    def __init__(self, *args: Any, configs: dict[str, GatewayConfig], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["gateway"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(n, c.label) for n, c in sorted(configs.items())]


class GatewayOptionsForm(forms.Form):
    mps = forms.IntegerField(
        label="Messages per second (all workers together; 0 = no limit)", min_value=0
    )

    def __init__(
        self, *args: Any, config: GatewayConfig, stored: dict[str, Any], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for option in config.options:
            help_text = option.help
            if option.secret:
                widget: forms.Widget = forms.PasswordInput(render_value=False)
                if option.key in stored:
                    help_text = f"{help_text} Stored; leave empty to keep it.".strip()
            else:
                widget = forms.NumberInput() if option.kind is int else forms.TextInput()
            self.fields[option.key] = forms.CharField(
                label=option.label,
                required=False,
                help_text=help_text,
                widget=widget,
                initial=None if option.secret else stored.get(option.key, option.default),
            )
