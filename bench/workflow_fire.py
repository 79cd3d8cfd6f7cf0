"""How long does firing one workflow transition take, in process, with the machine built once?

Run from the repository root:  python bench/workflow_fire.py [iterations]

It measures three things on the shipped tracks:
  - the raw library call machine.events[trigger].trigger(model, context=...)
  - intake.workflow.engine.fire() without a condition (standard: move_to_housing)
  - fire() with a condition evaluated by the expression language
    (young_girls: move_to_specialised_housing)
  - for comparison, the rejected design: add_model, fire, remove_model per call
and prints microseconds per fire (best of 5 repeats) with the Python and
transitions versions. Figures go into bench/README.md.
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
import timeit
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from intake.forms.loader import load_form
from intake.workflow.engine import CaseFacts, fire
from intake.workflow.loader import load_workflow
from intake.workflow.machine import CaseModel, FireContext, machine_for

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
TEAM = frozenset({"social_worker", "psychologist", "pedagogue", "law_enforcement_liaison"})
FORMS_DIR = WORKFLOWS.parent / "forms"
# The shipped forms, loaded as the application loads them: the fields the
# tracks' conditions read, with their types.
FORMS = {
    form.id: form.variable_types()
    for form in (
        load_form(path.read_text(encoding="utf-8"), file=str(path))
        for path in sorted(FORMS_DIR.glob("*.yaml"))
    )
}


class _Bindable:
    """A model the library may decorate with trigger methods (CaseModel has __slots__)."""

    state: str
    trigger: Callable[..., bool]  # added by machine.add_model


def per_fire_microseconds(call: Callable[[], object], iterations: int) -> float:
    timer = timeit.Timer(call)
    best = min(timer.repeat(repeat=5, number=iterations))
    return best / iterations * 1e6


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    tracks = {
        name: load_workflow(
            (WORKFLOWS / f"{name}.yaml").read_text(encoding="utf-8"),
            file=f"workflows/{name}.yaml",
            forms=FORMS,
        )
        for name in ("standard", "young_girls")
    }
    facts = CaseFacts(
        state="urgent_assistance",
        completed_forms=frozenset(FORMS),
        team_functions=TEAM,
        answers={"best_interests.decision": "family_return", "first_contact.age_years": 16},
        today=dt.date(2025, 3, 14),
    )
    standard, young_girls = tracks["standard"], tracks["young_girls"]
    machine = machine_for(standard)  # built once, outside the timing
    machine_for(young_girls)
    event = machine.events["move_to_housing"]
    context = FireContext(facts=facts, role="supervisor", reason=None)

    def raw() -> None:
        assert event.trigger(CaseModel("urgent_assistance"), context=context)

    def engine_plain() -> None:
        fire(
            workflow=standard,
            facts=facts,
            role="supervisor",
            trigger="move_to_housing",
            reason=None,
        )

    def engine_condition() -> None:
        fire(
            workflow=young_girls,
            facts=facts,
            role="supervisor",
            trigger="move_to_specialised_housing",
            reason=None,
        )

    def add_model_per_fire() -> None:
        # The road not taken: binding each case to the shared machine for one fire.
        model = _Bindable()
        machine.add_model(model, initial="urgent_assistance")
        try:
            assert model.trigger("move_to_housing", context=context)
        finally:
            machine.remove_model(model)

    print(f"Python {platform.python_version()}, transitions {version('transitions')}, ", end="")
    print(f"{iterations} fires per repeat, best of 5")
    for name, call in [
        ("machine.events[...].trigger (library only)", raw),
        ("engine.fire, no condition", engine_plain),
        ("engine.fire, with a condition", engine_condition),
        ("for comparison: add_model + fire + remove_model", add_model_per_fire),
    ]:
        print(f"  {name:<45} {per_fire_microseconds(call, iterations):7.1f} µs per fire")


if __name__ == "__main__":
    main()
