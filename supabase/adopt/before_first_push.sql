-- One-off, for a Supabase project that still holds the app creator-sync replaces (README "Moving
-- over from the existing app"). Run it once, right before the first `supabase db push`:
--
--   psql "$SUPABASE_DB_URL" -v ON_ERROR_STOP=1 -f supabase/adopt/before_first_push.sql
--
-- It moves the existing app's tables aside (renamed, nothing deleted) so the migrations can create
-- creator-sync's; migration 20261130000300_adopt_existing_app.sql then copies every row across,
-- queues a scrape for every linked handle and keeps `creator_profiles.tiktok_followers` readable.
-- Running it a second time, or on a database without the old tables, changes nothing.
do $$
begin
  if to_regclass('public.creator_profiles') is not null
     and not exists (
       select from information_schema.columns
       where table_schema = 'public' and table_name = 'creator_profiles' and column_name = 'scrape_generation')
  then
    alter table public.creator_profiles rename to legacy_creator_profiles;
    raise notice 'public.creator_profiles of the existing app is now public.legacy_creator_profiles';
    if to_regclass('public.user_settings') is not null then
      alter table public.user_settings rename to legacy_user_settings;
      raise notice 'public.user_settings of the existing app is now public.legacy_user_settings';
    end if;
  else
    raise notice 'nothing to move aside: no creator_profiles of the existing app here';
  end if;
end
$$;
