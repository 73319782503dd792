"""Attack scenarios: each one the activities of one intrusion, tagged with its name.

Every scenario is ``generate(org, corpus, start, days, rng, **params) -> list[Activity]``:
victims, timing, networks and volumes come from ``rng`` unless a parameter fixes them (each
module's ``Params`` docstring lists its parameters and their randomised defaults).  Every
malicious activity has ``scenario`` set to the scenario's name; a scenario may also return
benign context it needs (token-replay returns the victim's own sign-in with scenario None).

Every scenario also accepts ``avoid``: entities (UPNs) the rng should not pick as victim
(other attacks' victims), so an orchestrator can keep planted attacks on different people
without fixing the victims itself.  A scenario only runs where its logs exist: see
``Scenario.org_kinds`` (gateway-implant needs a mail gateway host, so no cloud-only org).

The attackers behave the way the public reporting describes them; nothing here is shaped
to make a particular detector succeed.

:data:`SCENARIOS` maps names to :class:`Scenario`; :func:`attack_entity` and
:func:`attacker_ips` give ground-truth tooling the entity and the attacker's addresses.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from types import ModuleType
from typing import Protocol

from dwelltime.simulate.activity import Activity, Connection, SignIn
from dwelltime.simulate.model import Org
from dwelltime.simulate.scenarios import (
    apt_cloud,
    apt_imap,
    bec,
    gateway_implant,
    insider_export,
    oauth_consent,
    spray,
    token_replay,
)
from dwelltime.simulate.scenarios._common import CorpusView, MailboxView, own_networks

__all__ = ["SCENARIOS", "CorpusView", "Generate", "MailboxView", "Scenario", "attack_entity", "attacker_ips"]


class Generate(Protocol):
    def __call__(
        self, org: Org, corpus: CorpusView, start: date, days: int, rng: random.Random, **params: object
    ) -> list[Activity]: ...


def _first_user(activities: Sequence[Activity]) -> str:
    return next(a.user for a in activities if a.scenario is not None)


def _spray_entity(activities: Sequence[Activity]) -> str:
    """The cracked account: the one the spray got a successful sign-in for."""
    hit = next((a for a in activities if isinstance(a, SignIn) and a.scenario and a.success), None)
    return hit.user if hit is not None else _first_user(activities)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One registered attack scenario."""

    name: str
    summary: str  # first line of the module docstring
    org_kinds: tuple[str, ...]  # organisation kinds whose logs show this attack
    entity_type: str  # "user" or "host"
    generate: Generate
    params_type: type
    entity_of: Callable[[Sequence[Activity]], str] = _first_user

    def __call__(
        self, org: Org, corpus: CorpusView, start: date, days: int, rng: random.Random, **params: object
    ) -> list[Activity]:
        return self.generate(org, corpus, start, days, rng, **params)

    def parameters(self) -> list[str]:
        """Names of the parameters ``generate`` accepts."""
        return [f.name for f in fields(self.params_type)]

    @property
    def doc(self) -> str:
        """What the scenario simulates and its parameters (for ``--help`` style listings)."""
        return self.params_type.__doc__ or ""


def _register(
    module: ModuleType, entity_type: str = "user", entity_of: Callable[[Sequence[Activity]], str] = _first_user
) -> Scenario:
    doc = (module.__doc__ or "").strip().splitlines()[0]
    summary = doc.split(":", 1)[1].strip() if ":" in doc else doc
    return Scenario(
        name=module.NAME,
        summary=summary,
        org_kinds=module.ORG_KINDS,
        entity_type=entity_type,
        generate=module.generate,
        params_type=module.Params,
        entity_of=entity_of,
    )


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        _register(apt_imap),
        _register(gateway_implant, "host"),
        _register(apt_cloud),
        _register(bec),
        _register(spray, entity_of=_spray_entity),
        _register(oauth_consent),
        _register(token_replay),
        _register(insider_export),
    )
}


def attack_entity(name: str, activities: Sequence[Activity]) -> str:
    """The entity ground truth names for one generated attack (user UPN or host name)."""
    return SCENARIOS[name].entity_of(activities)


def attacker_ips(org: Org, activities: Sequence[Activity]) -> list[str]:
    """Addresses the attacker used, sorted: sources of malicious activities that are not the
    organisation's own networks (an insider or a consenting victim acts from the office),
    plus the far end of malicious connections (an implant's command-and-control server)."""
    own = own_networks(org)
    ips: set[str] = set()
    for a in activities:
        if a.scenario is None:
            continue
        if isinstance(a, Connection):
            ips.add(a.dst_ip)
        elif a.network not in own:
            ips.add(a.network.ip)
    return sorted(ips)
