"""The paper-scale rehearsal: a local hub (hub.py) and its content (build.py)."""
