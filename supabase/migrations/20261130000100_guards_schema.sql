-- Cost guard and scale, part 1: the columns, tables, constraints and indexes (DESIGN §4, §6, §7, §12).
-- Part 2 (next migration) rewrites the functions and adds the triggers that use them.
--
-- Upgrading a deployed database: every new column has a default or is nullable, the new checks are
-- added NOT VALID (enforced for every new write; rows written before are not re-checked, so the
-- migration cannot fail on old data), and due-dates are backfilled from what the rows already hold.

-- The service's own limits and refresh policy: one row, read by the triggers and the service-role
-- functions. Not in an exposed schema; the reconciler keeps the refresh policy in step with the
-- deployed parameters (claim_reconcile), an operator changes the per-user limits with SQL.
create table creator_sync_private.service_config (
  singleton boolean primary key default true check (singleton),
  handle_changes_per_hour integer not null default 5 check (handle_changes_per_hour between 0 and 1000),
  refresh_cooldown_seconds integer not null default 900 check (refresh_cooldown_seconds between 0 and 604800),
  allow_anonymous_scrapes boolean not null default false,
  refresh_after_seconds integer not null default 86400 check (refresh_after_seconds between 60 and 31536000),
  inactive_after_days integer not null default 14 check (inactive_after_days between 1 and 3650),
  inactive_refresh_after_seconds integer not null default 604800
    check (inactive_refresh_after_seconds between 60 and 31536000),
  updated_at timestamptz not null default now()
);
insert into creator_sync_private.service_config default values;

revoke all on table creator_sync_private.service_config from public;
grant select on table creator_sync_private.service_config to authenticated, service_role;
grant update on table creator_sync_private.service_config to service_role;

-- IANA zone names the database accepts (the server's own list, copied once). A lookup table keeps
-- the check an index probe; pg_timezone_names reads the zone files on every call.
create table creator_sync_private.time_zones (name text primary key);
insert into creator_sync_private.time_zones (name)
  select name from pg_catalog.pg_timezone_names
  where name !~ '^(posix|right)/' and name not in ('posixrules', 'Factory', 'localtime')
  on conflict do nothing;
revoke all on table creator_sync_private.time_zones from public;
grant select on table creator_sync_private.time_zones to authenticated, service_role;


-- Settings: the same rules as the API for any writer (NUL cannot be stored in text at all).
alter table public.user_settings
  add constraint user_settings_niche_printable
    check (niche is null or niche !~ '[\x01-\x1f\x7f-\x9f\u2028\u2029\ufeff]') not valid;


-- Creator profiles: server-owned columns for limits, refresh policy and deferral.
alter table public.creator_profiles
  add column refresh_requested_at timestamptz,
  add column last_seen_at timestamptz,
  add column next_refresh_at timestamptz,
  add column retry_at timestamptz,
  add column scrape_deferrals integer not null default 0,
  add column handle_changed_at timestamptz[] not null default '{}';

comment on column public.creator_profiles.refresh_requested_at is
  'Set by request_refresh(); the guard trigger turns the write into a refresh under the cooldown.';
comment on column public.creator_profiles.last_seen_at is
  'When the user last read their profile (written at most once a day by get_profile()).';
comment on column public.creator_profiles.next_refresh_at is
  'When a succeeded profile is next due for a scheduled refresh (daily if active, weekly if not).';
comment on column public.creator_profiles.retry_at is
  'A deferred scrape (Apify outage or budget): the reconciler resumes it from this time.';
comment on column public.creator_profiles.handle_changed_at is
  'Times of the scrape-starting handle changes of the last hour (the per-user limit).';

-- The second line of defence behind the worker's item mapping [R9].
alter table public.creator_profiles
  add constraint creator_profiles_counts_bounded check (
    (followers is null or followers between 0 and 1000000000000000)
    and (following is null or following between 0 and 1000000000000000)
    and (hearts is null or hearts between 0 and 1000000000000000)
    and (videos is null or videos between 0 and 1000000000000000)) not valid,
  add constraint creator_profiles_texts_bounded check (
    (tiktok_user_id is null or (char_length(tiktok_user_id) between 1 and 64
                                and tiktok_user_id !~ '[\x01-\x1f\x7f-\x9f]'))
    and (display_name is null or (char_length(display_name) <= 256
                                  and display_name !~ '[\x01-\x1f\x7f-\x9f]'))
    and (bio is null or (char_length(bio) <= 4096 and bio !~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]'))
    and (scrape_error is null or char_length(scrape_error) <= 1024)) not valid,
  add constraint creator_profiles_avatar_https check (
    avatar_url is null or (avatar_url ~ '^https://[^[:space:]]+$' and char_length(avatar_url) <= 2048)) not valid;

-- Backfill: succeeded rows are due one default interval after their scrape (the old rule).
update public.creator_profiles
  set next_refresh_at = coalesce(scraped_at, scrape_requested_at, now()) + interval '1 day'
  where scrape_status = 'succeeded' and next_refresh_at is null;

-- The reconciler reads three index ranges, each in the order it claims (no sort, no scan):
-- lost scrapes, deferred scrapes that are due, and succeeded profiles due for a refresh.
drop index if exists public.creator_profiles_reconcile_idx;
create index creator_profiles_lost_idx on public.creator_profiles (scrape_requested_at, user_id)
  where scrape_status = 'queued' and retry_at is null;
create index creator_profiles_deferred_idx on public.creator_profiles (retry_at, user_id)
  where scrape_status = 'queued' and retry_at is not null;
create index creator_profiles_refresh_due_idx on public.creator_profiles (next_refresh_at, user_id)
  where scrape_status = 'succeeded';
-- Coalescing across batches: the freshest successful scrape of a handle, whoever linked it.
create index creator_profiles_handle_scraped_idx on public.creator_profiles (tiktok_handle, scraped_at desc)
  where scrape_status = 'succeeded';


-- What a user may write directly (PostgREST or SQL): column privileges name exactly the columns a
-- statement may set; the guard triggers (next migration) own every other column.
revoke insert, update on table public.user_settings from authenticated;
grant insert (user_id, niche, timezone, email_notifications, posting_goal_per_week)
  on table public.user_settings to authenticated;
grant update (niche, timezone, email_notifications, posting_goal_per_week)
  on table public.user_settings to authenticated;

grant insert (user_id, tiktok_handle) on table public.creator_profiles to authenticated;
grant update (tiktok_handle, refresh_requested_at, last_seen_at) on table public.creator_profiles to authenticated;

create policy creator_profiles_insert_own on public.creator_profiles
  for insert to authenticated with check ((select auth.uid()) = user_id);
create policy creator_profiles_update_own on public.creator_profiles
  for update to authenticated
  using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);


-- The Apify run ledger (service role only): what each run cost, read by the daily budget.
create table public.apify_runs (
  run_id text primary key check (char_length(run_id) between 1 and 128),
  actor_id text not null,
  handles text[] not null,
  reason text not null check (reason in ('requested', 'scheduled')),
  started_at timestamptz not null,
  finished_at timestamptz,
  status text not null check (char_length(status) between 1 and 32),
  usage_usd numeric(14, 6) check (usage_usd is null or usage_usd >= 0),
  recorded_at timestamptz not null default now()
);
alter table public.apify_runs enable row level security;
revoke all on table public.apify_runs from public, anon, authenticated, service_role;
grant select, insert, update on table public.apify_runs to service_role;
create index apify_runs_started_idx on public.apify_runs (started_at) include (usage_usd);
