"""Pointing a sender at a carrier gateway: options checked, secrets sealed, one save."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schoolsms import sealing
from schoolsms.accounts.models import Sender
from schoolsms.carriers.registry import gateway_configs


class GatewayConfigError(ValueError):
    """Bad gateway settings; `errors` name each flag (or form field) and what is wrong."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def sender_gateway_configure(
    *,
    sender: Sender,
    gateway: str | None = None,
    values: Mapping[str, Any] | None = None,
    mps: int | None = None,
) -> Sender:
    """Change a sender's gateway and/or its options and/or its messages per second.

    Options given replace stored ones; a secret not given again keeps its stored value when
    the gateway stays the same (so a form need not show it). Switching gateways drops the
    old gateway's options. Nothing is saved when anything is wrong."""
    configs = gateway_configs()
    errors: list[str] = []
    name = gateway or sender.gateway
    if name not in configs:
        raise GatewayConfigError([f"--gateway {name}: not one of {', '.join(sorted(configs))}"])
    config = configs[name]
    given = {k: v for k, v in (values or {}).items() if v not in (None, "")}
    known = {o.key for o in config.options}
    errors += [
        f"{'--' + key.replace('_', '-')}: not an option of the {name} gateway"
        for key in sorted(set(given) - known)
    ]
    if mps is not None and mps < 0:
        errors.append("--mps must be 0 (no limit) or more")
    stored = dict(sender.gateway_options or {}) if name == sender.gateway else {}
    options: dict[str, Any] = {}
    for option in config.options:
        if option.key in given:
            value = given[option.key]
            if option.kind is int:
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    errors.append(f"{option.flag}: a whole number, not {value!r}")
                    continue
            else:
                value = str(value).strip()
            problem = option.check(value) if option.check else None
            if problem:
                errors.append(f"{option.flag}: {problem}")
                continue
            options[option.key] = sealing.seal(value) if option.secret else value
        elif option.key in stored and not (option.one_of and _group_given(config, option, given)):
            options[option.key] = stored[option.key]
        elif option.default is not None:
            options[option.key] = option.default
    for option in config.options:
        if option.required and option.key not in options:
            errors.append(f"{option.flag} is required for the {name} gateway")
    groups = sorted({o.one_of for o in config.options if o.one_of})
    for group in groups:
        members = [o for o in config.options if o.one_of == group]
        present = [o for o in members if o.key in options]
        if len(present) != 1:
            flags = " | ".join(o.flag for o in members)
            errors.append(f"give exactly one of {flags} for the {name} gateway")
    if not errors:
        errors += config.validate(options)
    if errors:
        raise GatewayConfigError(errors)
    sender.gateway = name
    sender.gateway_options = options
    fields = ["gateway", "gateway_options"]
    if mps is not None:
        sender.mps = mps
        fields.append("mps")
    sender.save(update_fields=fields)
    return sender


def _group_given(config: Any, option: Any, given: Mapping[str, Any]) -> bool:
    """Another member of the option's one-of group is being set now (it replaces this one)."""
    return any(o.one_of == option.one_of and o.key in given for o in config.options)


def senders_reseal() -> int:
    """Seal every stored secret again with the current first key (after a key rotation)."""
    configs = gateway_configs()
    count = 0
    for sender in Sender.objects.all():
        config = configs.get(sender.gateway)
        if config is None:
            continue
        options = dict(sender.gateway_options or {})
        changed = False
        for option in config.options:
            value = options.get(option.key)
            if option.secret and isinstance(value, str) and sealing.is_sealed(value):
                options[option.key] = sealing.reseal(value)
                changed = True
        if changed:
            sender.gateway_options = options
            sender.save(update_fields=["gateway_options"])
            count += 1
    return count
