"""EventBridge rules (event patterns and schedules) and their targets."""

from __future__ import annotations

from localcloud.extension import Extension


class EventBridgeRules(Extension):
    """EventBridge rules (event patterns and schedules) and their targets."""
