"""The workflow engine: track definitions (YAML), one transitions.Machine per version, and
the service-free API the case service calls.

    loader.load_workflow(text, *, file, forms) -> Workflow       (raises DefinitionProblems)
    loader.check_track_set(workflows) -> list[Problem]
    files.load_track_files(paths, *, forms) -> list[Workflow]    (both of the above, for startup)
    engine.choose_track(*, workflows, answers, today) -> Workflow
    engine.available_actions(*, workflow, facts, role) -> list[Action]
    engine.fire(*, workflow, facts, role, trigger, reason) -> FireResult  (raises TransitionRefused)
    diagram.mermaid_diagram(workflow, *, language) -> str
    cli.check_command(paths, *, forms) -> int;  cli.diagram_command(workflow_id) -> str

Import the modules: `from intake.workflow import engine as workflow_engine`.
"""
