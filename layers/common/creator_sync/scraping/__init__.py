"""Scraping (ScrapeWorkerFunction, ReconcilerFunction): the batch use case with its cost guard,
the mapping of the actor's items, what a scrape yields, the reconciler, and their wiring."""
