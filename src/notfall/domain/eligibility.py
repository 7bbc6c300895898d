"""Who is entitled to care, and at which price tier, decided from the partner register.

Entitled: residents of the city itself or of a partner municipality, and employees of a
partner company or partner municipality, each on a day its contract covers. Tiers, the
cheapest that applies: students living in the city; employees of a partner; everybody else
entitled pays the standard rate. Everybody may get a consultation; care for somebody not
entitled is refused, or charged the standard rate if configuration says so.

Intake assesses a care need for the day care starts (`assess`); the invoice assesses each
session for its own day (`assess_for_invoice`), so a contract that ends during the care counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from notfall.domain.events import Need
from notfall.domain.partners import PartnerState
from notfall.domain.tariffs import Tier


@dataclass(frozen=True)
class EligibilityRules:
    city: str = "hannover"
    non_entitled: Literal["refuse", "standard"] = "refuse"


@dataclass(frozen=True)
class Assessment:
    entitled: bool
    tier: Tier | None  # None: refused
    basis: str  # why, in words, for the invoice and for the person refused


def _named(partners: list[PartnerState], employer: str | None) -> list[PartnerState]:
    """The partners the named employer may be: by id or by name, as people write it."""
    if not employer:
        return []
    wanted = employer.strip().lower()
    return [p for p in partners if wanted in (p.partner.partner_id, p.partner.name.strip().lower())]


def _employer(partners: list[PartnerState], employer: str | None, day: date) -> PartnerState | None:
    return next((p for p in _named(partners, employer) if p.contract_on(day)), None)


def _no_contract(partners: list[PartnerState], employer: str | None, day: date) -> str | None:
    """Why a named partner employer gives no partner rate on `day`, for the family's invoice."""
    named = _named(partners, employer)
    if not named or any(p.contract_on(day) for p in named):
        return None
    return f"kein Rahmenvertrag mit Partner {named[0].partner.name} am {day.strftime('%d.%m.%Y')}"


def _home(partners: list[PartnerState], municipality: str, day: date) -> PartnerState | None:
    return next(
        (
            p
            for p in partners
            if p.partner.kind == "municipality"
            and p.partner.municipality.strip().lower() == municipality
            and p.contract_on(day)
        ),
        None,
    )


def assess(need: Need, day: date, partners: list[PartnerState], rules: EligibilityRules) -> Assessment:
    """The tier for care on `day` (Berlin date of the care), with its basis in words."""
    municipality = need.municipality.strip().lower()
    in_city = municipality == rules.city.strip().lower()
    employer = _employer(partners, need.employer, day)
    home = _home(partners, municipality, day)
    if need.student and in_city:
        return Assessment(True, Tier.STUDENT, f"Studium, wohnhaft in {rules.city.title()}")
    if employer is not None:
        contract = employer.contract_on(day)
        assert contract is not None
        return Assessment(
            True,
            Tier.PARTNER,
            f"beschäftigt bei Partner {employer.partner.name} (Rahmenvertrag {contract.contract_id})",
        )
    lapsed = _no_contract(partners, need.employer, day)
    if in_city:
        return Assessment(True, Tier.STANDARD, "; ".join(filter(None, [f"wohnhaft in {rules.city.title()}", lapsed])))
    if home is not None:
        return Assessment(
            True, Tier.STANDARD, "; ".join(filter(None, [f"wohnhaft in Partnerkommune {home.partner.name}", lapsed]))
        )
    why = (
        f"{need.municipality} is neither {rules.city} nor a partner municipality on {day.isoformat()}, "
        f"and no employer with a partner contract was named"
    )
    if rules.non_entitled == "standard":
        return Assessment(False, Tier.STANDARD, f"not entitled ({why}); standard rate by configuration")
    return Assessment(False, None, why)


def assess_for_invoice(need: Need, day: date, partners: list[PartnerState], rules: EligibilityRules) -> Assessment:
    """The tier an invoice charges for care given on `day`, with its basis in words (German:
    it is printed on the family's invoice). Care that was given is billed: on a day the
    household is not entitled (a contract ended during the care), at the standard rate."""
    verdict = assess(need, day, partners, rules)
    if verdict.entitled:
        return verdict
    why = [
        f"{need.municipality.strip()} ist weder {rules.city.title()} noch Partnerkommune",
        _no_contract(partners, need.employer, day) or "kein Arbeitgeber mit Rahmenvertrag",
    ]
    # The invoice prints the tier's label before the basis: "Standardtarif: am 16.03.2026 kein Anspruch (...)".
    return Assessment(False, Tier.STANDARD, f"am {day.strftime('%d.%m.%Y')} kein Anspruch ({', '.join(why)})")
