"""The profile API (ProfileApiFunction): its HTTP edge, token check, boundary models, use cases
and wiring; SnapStart hooks."""
