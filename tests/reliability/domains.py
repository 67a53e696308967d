"""Every domain's entry in the reliability suite, read from `tests/<domain>/reliability.py`
for each domain of `tether.domains` (see model.py for what an entry holds)."""

from __future__ import annotations

from tether import domains as registry

from .model import Domain, Secret, TextInput

DOMAINS: tuple[Domain, ...] = tuple(
    domain.module("reliability", within=None).DOMAIN for domain in registry.DOMAINS
)
SCHEMAS = [domain.schema for domain in DOMAINS]
TEXT_INPUTS: list[tuple[Domain, TextInput]] = [
    (domain, text) for domain in DOMAINS for text in domain.text_inputs
]
SECRETS: list[tuple[Domain, Secret]] = [
    (domain, secret) for domain in DOMAINS for secret in domain.secrets
]
