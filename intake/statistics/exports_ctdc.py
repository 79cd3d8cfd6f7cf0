"""The anonymised record-level export in CTDC's layout, k-anonymous.

One row per person: year of registration instead of dates, CTDC's age band and majority
flag instead of a birth date, ISO 3166 alpha-2 countries, 0/1 flags for multiple choices,
no name, no reference, no free text. Released only as k-anonymous over the quasi-
identifiers (gender, age band, nationality, types of exploitation, year): a row whose
combination holds fewer than k people is generalised (age band to minor/adult, then
nationality to unknown, then exploitation to unknown) until its group has k, and
suppressed when even that is too few. The export says how many rows were generalised and
how many suppressed.

Two passes over the profiles: the first counts the combinations (memory grows with the
number of distinct combinations, never with the number of people) and decides each
combination's level; the second streams the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from intake.statistics import codes
from intake.statistics.profiles import Profile, profiles

Key = tuple[str, str, str, str, int]  # gender, age band, nationality, exploitation, year
MINOR, ADULT = "0-17", "18+"
# What each level of generalisation keeps of a key.
LEVELS: tuple[Callable[[Key], Key], ...] = (
    lambda key: key,
    lambda key: (key[0], _broad(key[1]), key[2], key[3], key[4]),
    lambda key: (key[0], _broad(key[1]), codes.UNKNOWN, key[3], key[4]),
    lambda key: (key[0], _broad(key[1]), codes.UNKNOWN, codes.UNKNOWN, key[4]),
)
SUPPRESSED = len(LEVELS)

EXPLOITATION_FLAGS = (
    ("isForcedLabour", ("labour", "domestic")),
    ("isSexualExploit", ("sexual",)),
    ("isForcedMarriage", ("marriage",)),
    ("isOtherExploit", ("criminality", "begging", "other")),
)
CONTROL_FLAGS = (
    ("meansOfControlDebtBondage", "debt_bondage"),
    ("meansOfControlTakesEarnings", "takes_earnings"),
    ("meansOfControlThreats", "threats"),
    ("meansOfControlPsychologicalAbuse", "psychological_abuse"),
    ("meansOfControlPhysicalAbuse", "physical_abuse"),
    ("meansOfControlSexualAbuse", "sexual_abuse"),
    ("meansOfControlFalsePromises", "false_promises"),
    ("meansOfControlPsychoactiveSubstances", "psychoactive_substances"),
    ("meansOfControlRestrictsMovement", "restricts_movement"),
    ("meansOfControlWithholdsDocuments", "withholds_documents"),
    ("meansOfControlWithholdsNecessities", "withholds_necessities"),
    ("meansOfControlThreatOfLawEnforcement", "threat_of_law_enforcement"),
    ("meansOfControlOther", "other"),
)
RECRUITER_FLAGS = (
    ("recruiterRelationIntimatePartner", ("partner",)),
    ("recruiterRelationFriend", ("friends",)),
    ("recruiterRelationFamily", ("family",)),
    ("recruiterRelationOther", ("workplace", "online", "advertisement", "other")),
)
COLUMNS: tuple[str, ...] = (
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "majorityStatus",
    "citizenship",
    "CountryOfExploitation",
    *(name for name, _codes in EXPLOITATION_FLAGS),
    "typeOfExploitConcatenated",
    *(name for name, _code in CONTROL_FLAGS),
    *(name for name, _codes in RECRUITER_FLAGS),
)
GENDERS = {"female": "Female", "male": "Male", "other": "Other"}


def _broad(band: str) -> str:
    minor = codes.is_minor_band(band)
    if minor is None:
        return band
    return MINOR if minor else ADULT


def key_of(profile: Profile) -> Key:
    """The quasi-identifiers of a person."""
    exploitation = ";".join(profile.exploitation) or codes.UNKNOWN
    return (profile.gender, profile.age_band, profile.nationality, exploitation, profile.year)


@dataclass(frozen=True)
class Plan:
    """The level each combination is released at, and how many rows are affected."""

    threshold: int
    levels: dict[Key, int]
    rows: int
    generalised: int
    suppressed: int

    @property
    def released(self) -> int:
        """Rows in the file."""
        return self.rows - self.suppressed


def plan(counts: Counter[Key], threshold: int) -> Plan:
    """Release each combination at the first level where the rows still waiting to be
    released share their generalised combination with at least `threshold` people."""
    waiting = dict(counts)
    levels: dict[Key, int] = {}
    for level, generalise in enumerate(LEVELS):
        grouped: Counter[Key] = Counter()
        for key, n in waiting.items():
            grouped[generalise(key)] += n
        for key in list(waiting):
            if grouped[generalise(key)] >= threshold:
                levels[key] = level
                del waiting[key]
    for key in waiting:
        levels[key] = SUPPRESSED
    total = sum(counts.values())
    generalised = sum(n for key, n in counts.items() if 0 < levels[key] < SUPPRESSED)
    suppressed = sum(n for key, n in counts.items() if levels[key] == SUPPRESSED)
    return Plan(threshold, levels, total, generalised, suppressed)


def count_keys(*, db: Session, organisation_ids: Sequence[str]) -> Counter[Key]:
    """The first pass: how many people share each combination."""
    return Counter(key_of(p) for p in profiles(db=db, organisation_ids=organisation_ids))


def row_of(profile: Profile, level: int) -> list[str | int]:
    """A person's row at a level of generalisation (never called for a suppressed one)."""
    gender, band, nationality, exploitation, year = LEVELS[level](key_of(profile))
    minor = codes.is_minor_band(band) if band not in (MINOR, ADULT) else band == MINOR
    chosen = set() if exploitation == codes.UNKNOWN else set(profile.exploitation)
    return [
        year,
        GENDERS.get(gender, ""),
        "" if band == codes.UNKNOWN else band,
        "" if minor is None else ("Minor" if minor else "Adult"),
        codes.iso_country(nationality),
        codes.iso_country(profile.exploitation_country) if level < 2 else "",
        *(int(bool(chosen & set(names))) for _name, names in EXPLOITATION_FLAGS),
        ";".join(sorted(chosen)),
        *(int(code in profile.control) for _name, code in CONTROL_FLAGS),
        *(int(bool(set(profile.recruitment) & set(names))) for _name, names in RECRUITER_FLAGS),
    ]


def released_rows(
    *, db: Session, organisation_ids: Sequence[str], chosen: Plan
) -> Iterator[list[str | int]]:
    """The second pass: the rows of the file, suppressed ones left out, in case id order
    (opaque, so the order says nothing about a person)."""
    for profile in profiles(db=db, organisation_ids=organisation_ids):
        level = chosen.levels.get(key_of(profile), SUPPRESSED)
        if level < SUPPRESSED:
            yield row_of(profile, level)
