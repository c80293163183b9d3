"""Cloud Map namespaces, services and instances, and Glue databases and tables."""

from __future__ import annotations

from localcloud.extension import Extension


class CloudMapAndGlue(Extension):
    """Cloud Map namespaces, services and instances, and Glue databases and tables."""
