"""The database as the functions see it: PostgREST RPC calls, as the user (profiles) or as the
service role (scrapes)."""
