"""Local stand-ins and the local runner for creator-sync. Never deployed."""
