"""Background work on a real queue (RQ + Redis); runs inline in the embedded default."""
