"""Administration of definitions: editor, versions, diagrams and migrations of cases."""
