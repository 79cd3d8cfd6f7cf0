"""The workflow engine: track definitions (YAML), one transitions.Machine per version, and
the service-free API the case service calls.

Import the modules: `from intake.workflow import engine, loader`.
"""
