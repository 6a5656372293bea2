"""Identity's domain: plain Python, no infrastructure (rule 1)."""
