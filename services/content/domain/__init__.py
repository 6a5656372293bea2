"""Content's domain: resources of the library, e-learning modules (lessons of blocks, versioned),
a coachee's progress through them, and the xAPI statements that record it. Plain Python, no
infrastructure."""
