"""Definitions shared by forms and workflows: YAML sources, positions, problems."""
