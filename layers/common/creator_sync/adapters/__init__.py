"""The outside services: SQS (the scrape queue and its wire protocol), Apify, Secrets Manager."""
