"""The live Panel app of ssh-dip: ``panel serve explorer`` (see explorer/main.py)."""
