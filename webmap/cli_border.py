"""`riskmap` commands for the cross-border analysis (registered by webmap.cli)."""

from __future__ import annotations

import click

#: Commands this module adds to `riskmap`.
COMMANDS: list[click.Command] = []
