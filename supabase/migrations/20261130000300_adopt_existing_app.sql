-- Moving over from the app creator-sync replaces (DESIGN §4 "Moving over").
--
-- 1. `creator_profiles.tiktok_followers` stays readable for the old app's readers (its prediction
--    pipeline): a generated column that always equals `followers`. On every install.
-- 2. Where supabase/adopt/before_first_push.sql moved the old tables aside, their rows come in:
--    settings as they were, profiles with the handle normalised (bare, lower-case) and the old data
--    kept visible (sanitised to this schema's rules), every linked handle queued for a scrape that
--    the reconciler sends at its own pace (lost lane). A handle this schema cannot hold is left
--    unlinked; the legacy tables stay in place, so nothing is lost.

alter table public.creator_profiles
  add column tiktok_followers bigint generated always as (followers) stored;
comment on column public.creator_profiles.tiktok_followers is
  'Compatibility for readers of the replaced app: always equal to followers.';

do $$
declare
  v_settings integer := 0;
  v_profiles integer := 0;
  v_unlinked integer := 0;
begin
  if to_regclass('public.legacy_creator_profiles') is null then
    return;
  end if;

  if to_regclass('public.legacy_user_settings') is not null then
    insert into public.user_settings (user_id, niche, timezone, email_notifications, posting_goal_per_week)
    select u.id,
           nullif(left(regexp_replace(l.j ->> 'niche', '[\x01-\x1f\x7f-\x9f\u2028\u2029\ufeff]', '', 'g'), 64), ''),
           case when exists (select from creator_sync_private.time_zones as z where z.name = l.j ->> 'timezone')
                then l.j ->> 'timezone' end,
           coalesce((l.j ->> 'email_notifications')::boolean, true),
           case when (l.j ->> 'posting_goal_per_week') ~ '^\d{1,2}$'
                     and (l.j ->> 'posting_goal_per_week')::int <= 50
                then (l.j ->> 'posting_goal_per_week')::smallint end
    from (select to_jsonb(s) as j from public.legacy_user_settings as s) as l
    join auth.users as u on u.id = coalesce(l.j ->> 'user_id', l.j ->> 'id')::uuid
    on conflict (user_id) do nothing;
    get diagnostics v_settings = row_count;
  end if;

  with legacy as (
    select u.id as user_id, l.j,
           nullif(lower(regexp_replace(trim(coalesce(l.j ->> 'tiktok_handle', '')),
                                       '^(https?://)?((www|m)\.)?(tiktok\.com/)?@?', '')), '') as handle
    from (select to_jsonb(c) as j from public.legacy_creator_profiles as c) as l
    join auth.users as u on u.id = coalesce(l.j ->> 'user_id', l.j ->> 'id')::uuid
  ), cleaned as (
    select user_id, j,
           case when handle ~ '^[a-z0-9_.]{1,23}[a-z0-9_]$' then handle end as handle,
           handle is not null and handle !~ '^[a-z0-9_.]{1,23}[a-z0-9_]$' as unusable
    from legacy
  )
  insert into public.creator_profiles
    (user_id, tiktok_handle, display_name, avatar_url, bio, followers,
     scrape_status, scrape_generation, scrape_requested_at, scrape_error)
  select user_id, handle,
         nullif(left(regexp_replace(j ->> 'display_name', '[\x01-\x1f\x7f-\x9f]', '', 'g'), 256), ''),
         case when j ->> 'avatar_url' ~ '^https://[^[:space:]]+$' and char_length(j ->> 'avatar_url') <= 2048
              then j ->> 'avatar_url' end,
         left(regexp_replace(j ->> 'bio', '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]', '', 'g'), 4096),
         case when (j ->> 'tiktok_followers') ~ '^\d{1,16}$'
                   and (j ->> 'tiktok_followers')::numeric <= 1000000000000000
              then (j ->> 'tiktok_followers')::bigint end,
         case when handle is null then 'idle' else 'queued' end,
         case when handle is null then 0 else 1 end,
         -- already "lost": the reconciler's next runs send them, RECONCILE_LIMIT at a time
         case when handle is null then null else now() - interval '1 day' end,
         case when unusable then 'the old app''s handle is not a valid TikTok handle; link it again' end
  from cleaned
  on conflict (user_id) do nothing;
  get diagnostics v_profiles = row_count;
  select count(*) into v_unlinked from public.creator_profiles
    where scrape_error like 'the old app''s handle%';

  raise notice 'adopted % settings rows and % creator rows (% handles left unlinked)',
    v_settings, v_profiles, v_unlinked;
end
$$;
