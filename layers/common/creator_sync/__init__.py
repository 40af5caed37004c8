"""creator-sync domain package: shipped in the Lambda layer, imported by the three thin handlers."""
