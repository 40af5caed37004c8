-- creator-sync tables. Grants are explicit: Supabase no longer grants new public tables to the API
-- roles. RLS is on for every table; the RPC functions (next migration) are the only write path.

create table public.user_settings (
  user_id uuid primary key references auth.users (id) on delete cascade,
  niche text check (niche is null or char_length(niche) between 1 and 64),
  timezone text check (timezone is null or char_length(timezone) between 1 and 64),
  email_notifications boolean not null default true,
  posting_goal_per_week smallint
    check (posting_goal_per_week is null or posting_goal_per_week between 0 and 50),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

alter table public.user_settings enable row level security;

revoke all on table public.user_settings from public, anon, authenticated, service_role;
grant select, insert, update on table public.user_settings to authenticated;
grant select, insert, update, delete on table public.user_settings to service_role;

create policy user_settings_select_own on public.user_settings
  for select to authenticated using ((select auth.uid()) = user_id);
create policy user_settings_insert_own on public.user_settings
  for insert to authenticated with check ((select auth.uid()) = user_id);
create policy user_settings_update_own on public.user_settings
  for update to authenticated
  using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);


create table public.creator_profiles (
  user_id uuid primary key references auth.users (id) on delete cascade,
  -- The handle rule is enforced here as well as in the API: update_profile is callable directly
  -- through PostgREST by any signed-in user, so the database cannot trust its caller.
  tiktok_handle text check (tiktok_handle is null or tiktok_handle ~ '^[a-z0-9_.]{1,23}[a-z0-9_]$'),
  tiktok_user_id text,
  display_name text,
  avatar_url text,
  bio text,
  followers bigint,
  following bigint,
  hearts bigint,
  videos bigint,
  verified boolean,
  private_account boolean,
  scrape_status text not null default 'idle'
    check (scrape_status in ('idle', 'queued', 'succeeded', 'not_found', 'private', 'failed')),
  scrape_generation bigint not null default 0,
  scrape_requested_at timestamptz,
  scraped_at timestamptz,
  scrape_error text,
  scrape_attempts integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint creator_profiles_linked_status
    check (tiktok_handle is not null or scrape_status = 'idle')
);

alter table public.creator_profiles enable row level security;

revoke all on table public.creator_profiles from public, anon, authenticated, service_role;
grant select on table public.creator_profiles to authenticated;
grant select, insert, update, delete on table public.creator_profiles to service_role;

create policy creator_profiles_select_own on public.creator_profiles
  for select to authenticated using ((select auth.uid()) = user_id);

-- The reconciler's scan: rows waiting in queued, or succeeded and due for a refresh.
create index creator_profiles_reconcile_idx
  on public.creator_profiles (scrape_status, scrape_requested_at)
  where tiktok_handle is not null and scrape_status in ('queued', 'succeeded');
