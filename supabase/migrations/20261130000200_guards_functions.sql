-- Cost guard and scale, part 2: every rule in the database, for any caller (DESIGN §3, §4, §6, §7).
--
-- User-facing RPCs are SECURITY INVOKER: they run as `authenticated`, under RLS and the column
-- privileges of part 1, so calling them directly through PostgREST gives a user nothing the table
-- does not already allow (Supabase advisor lints 0028/0029 clean). The server-side columns belong to
-- BEFORE triggers: whatever a user's statement names, the trigger decides generation, status,
-- creator data, limits and due dates. Service-role functions write those columns themselves.
--
-- Errors a client must see with their own status use PostgREST's PTxxx SQLSTATEs (HTTP xxx):
-- PT403 (not allowed for anonymous users), PT409 (no handle linked), PT429 (a per-user limit; the
-- DETAIL holds `retry_after=<seconds>`).

-- ---------------------------------------------------------------------------------------------
-- Guards

create or replace function creator_sync_private.user_settings_guard()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    new.created_at := now();
  else
    new.created_at := old.created_at;
  end if;
  new.updated_at := now();
  if new.timezone is not null
     and (tg_op = 'INSERT' or new.timezone is distinct from old.timezone)
     and not exists (select from creator_sync_private.time_zones as z where z.name = new.timezone) then
    raise exception 'timezone must be an IANA time zone name such as Europe/Paris'
      using errcode = '22023';
  end if;
  return new;
end
$$;

revoke all on function creator_sync_private.user_settings_guard() from public;

create trigger user_settings_guard
  before insert or update on public.user_settings
  for each row execute function creator_sync_private.user_settings_guard();


-- True when the statement comes from an API user (or PostgREST's anon role): their writes are
-- reshaped by the guard. The service role and SQL sessions (migrations, operators) are trusted.
create or replace function creator_sync_private.caller_is_user()
returns boolean
language sql stable
security invoker
set search_path = ''
as $$
  select current_user in ('authenticated', 'anon')
$$;

revoke all on function creator_sync_private.caller_is_user() from public;
grant execute on function creator_sync_private.caller_is_user() to authenticated, anon, service_role;


-- Scrapes cost money: anonymous sign-ins may not start them unless the operator allows it.
create or replace function creator_sync_private.require_scrape_allowed(p_config creator_sync_private.service_config)
returns void
language plpgsql stable
security invoker
set search_path = ''
as $$
begin
  if coalesce((auth.jwt() ->> 'is_anonymous')::boolean, false) and not p_config.allow_anonymous_scrapes then
    raise exception 'anonymous users cannot link a TikTok handle or refresh it; sign up first'
      using errcode = 'PT403';
  end if;
end
$$;

revoke all on function creator_sync_private.require_scrape_allowed(creator_sync_private.service_config) from public;
grant execute on function creator_sync_private.require_scrape_allowed(creator_sync_private.service_config)
  to authenticated, anon;


create or replace function creator_sync_private.creator_profiles_guard()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_config creator_sync_private.service_config;
  v_recent timestamptz[];
  v_retry integer;
  v_ready_at timestamptz;
begin
  if not creator_sync_private.caller_is_user() then
    return new;
  end if;
  select * into strict v_config from creator_sync_private.service_config;

  -- A user names only tiktok_handle, refresh_requested_at and last_seen_at (column privileges);
  -- start from the stored row (or a fresh one) for everything else.
  if tg_op = 'INSERT' then
    new.tiktok_user_id := null; new.display_name := null; new.avatar_url := null; new.bio := null;
    new.followers := null; new.following := null; new.hearts := null; new.videos := null;
    new.verified := null; new.private_account := null;
    new.scrape_status := 'idle'; new.scrape_generation := 0; new.scrape_requested_at := null;
    new.scraped_at := null; new.scrape_error := null; new.scrape_attempts := 0;
    new.created_at := now(); new.updated_at := now();
    new.next_refresh_at := null; new.retry_at := null; new.scrape_deferrals := 0;
    new.handle_changed_at := '{}'; new.refresh_requested_at := null; new.last_seen_at := now();
    if new.tiktok_handle is null then
      return new;
    end if;
  else
    new.user_id := old.user_id;
    new.tiktok_user_id := old.tiktok_user_id; new.display_name := old.display_name;
    new.avatar_url := old.avatar_url; new.bio := old.bio; new.followers := old.followers;
    new.following := old.following; new.hearts := old.hearts; new.videos := old.videos;
    new.verified := old.verified; new.private_account := old.private_account;
    new.scrape_status := old.scrape_status; new.scrape_generation := old.scrape_generation;
    new.scrape_requested_at := old.scrape_requested_at; new.scraped_at := old.scraped_at;
    new.scrape_error := old.scrape_error; new.scrape_attempts := old.scrape_attempts;
    new.created_at := old.created_at; new.next_refresh_at := old.next_refresh_at;
    new.retry_at := old.retry_at; new.scrape_deferrals := old.scrape_deferrals;
    new.handle_changed_at := old.handle_changed_at;
  end if;

  if tg_op = 'INSERT' or new.tiktok_handle is distinct from old.tiktok_handle then
    -- A handle change: a new generation, the old account's data cleared.
    if new.tiktok_handle is not null then
      perform creator_sync_private.require_scrape_allowed(v_config);
      v_recent := array(
        select t from unnest(new.handle_changed_at) as t where t > now() - interval '1 hour' order by t);
      if cardinality(v_recent) >= v_config.handle_changes_per_hour then
        v_retry := greatest(ceil(extract(epoch from
          coalesce(v_recent[cardinality(v_recent) - v_config.handle_changes_per_hour + 1], now())
          + interval '1 hour' - now())), 1)::integer;
        raise exception 'at most % TikTok handle changes an hour; try again in % s',
            v_config.handle_changes_per_hour, v_retry
          using errcode = 'PT429', detail = format('retry_after=%s', v_retry);
      end if;
      new.handle_changed_at := v_recent || now();
    end if;
    new.tiktok_user_id := null; new.display_name := null; new.avatar_url := null; new.bio := null;
    new.followers := null; new.following := null; new.hearts := null; new.videos := null;
    new.verified := null; new.private_account := null;
    new.scrape_status := case when new.tiktok_handle is null then 'idle' else 'queued' end;
    new.scrape_generation := coalesce(old.scrape_generation, 0) + 1;
    new.scrape_requested_at := case when new.tiktok_handle is null then null else now() end;
    new.scraped_at := null; new.scrape_error := null; new.scrape_attempts := 0;
    new.next_refresh_at := null; new.retry_at := null; new.scrape_deferrals := 0;
    new.last_seen_at := now(); new.updated_at := now();
    return new;
  end if;

  if new.refresh_requested_at is distinct from old.refresh_requested_at then
    -- A refresh: the server's cooldown, never the caller's.
    new.refresh_requested_at := now();
    if new.tiktok_handle is null then
      raise exception 'no TikTok handle is linked' using errcode = 'PT409';
    end if;
    perform creator_sync_private.require_scrape_allowed(v_config);
    v_ready_at := old.scrape_requested_at + make_interval(secs => v_config.refresh_cooldown_seconds);
    if v_ready_at > now() then
      v_retry := greatest(ceil(extract(epoch from v_ready_at - now())), 1)::integer;
      raise exception 'a scrape was requested recently; try again in % s', v_retry
        using errcode = 'PT429', detail = format('retry_after=%s', v_retry);
    end if;
    new.scrape_status := 'queued';
    new.scrape_generation := old.scrape_generation + 1;
    new.scrape_requested_at := now();
    new.scrape_error := null; new.scrape_attempts := 0;
    new.retry_at := null; new.scrape_deferrals := 0;
    new.last_seen_at := now(); new.updated_at := now();
    return new;
  end if;

  if new.last_seen_at is distinct from old.last_seen_at then
    -- The user looked. Someone back after a long absence gets data no older than the active interval.
    new.last_seen_at := now();
    if (old.last_seen_at is null or old.last_seen_at < now() - make_interval(days => v_config.inactive_after_days))
       and new.scrape_status = 'succeeded' then
      new.next_refresh_at := least(
        new.next_refresh_at,
        coalesce(new.scraped_at, now()) + make_interval(secs => v_config.refresh_after_seconds));
      if new.next_refresh_at <= now() then
        -- Due now: queued at a new generation, resumed by the reconciler's next run (deferred lane).
        new.scrape_status := 'queued';
        new.scrape_generation := old.scrape_generation + 1;
        new.scrape_requested_at := now();
        new.retry_at := now();
        new.scrape_error := null; new.scrape_attempts := 0; new.scrape_deferrals := 0;
      end if;
    end if;
  end if;
  return new;
end
$$;

revoke all on function creator_sync_private.creator_profiles_guard() from public;

create trigger creator_profiles_guard
  before insert or update on public.creator_profiles
  for each row execute function creator_sync_private.creator_profiles_guard();


-- ---------------------------------------------------------------------------------------------
-- Late writes (DESIGN §3): the database gives up on a call before the API does.
-- statement_timeout for the API's role (PostgREST applies the impersonated role's settings per
-- request) is below the API's 5 s client timeout; and the write RPCs refuse to commit after the
-- deadline the API sends (`X-Creator-Sync-Deadline`, epoch seconds), which also covers time spent
-- waiting for a pooled connection before the statement started.

alter role authenticated set statement_timeout = '4s';

create or replace function creator_sync_private.check_deadline()
returns void
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  v_deadline text := nullif(current_setting('request.headers', true), '')::json ->> 'x-creator-sync-deadline';
begin
  if v_deadline ~ '^\d{1,12}(\.\d{1,6})?$' and clock_timestamp() > to_timestamp(v_deadline::double precision) then
    raise exception 'the caller gave up on this request; nothing was written' using errcode = '57014';
  end if;
end
$$;

revoke all on function creator_sync_private.check_deadline() from public;
grant execute on function creator_sync_private.check_deadline() to authenticated;


-- ---------------------------------------------------------------------------------------------
-- User-facing RPCs (SECURITY INVOKER)

-- Reads the caller's profile and records, at most once a day, that they looked.
create or replace function public.get_profile()
returns jsonb
language plpgsql volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := creator_sync_private.require_uid();
begin
  update public.creator_profiles set last_seen_at = now()
    where user_id = v_uid and (last_seen_at is null or last_seen_at < now() - interval '1 day');
  return creator_sync_private.profile_json(v_uid);
end
$$;

revoke all on function public.get_profile() from public, anon, authenticated, service_role;
grant execute on function public.get_profile() to authenticated;


-- Settings keys and types (a direct caller meets the same rules as the API); the zone name itself
-- is checked by the user_settings trigger, control characters by the table as well.
create or replace function creator_sync_private.check_settings(p_settings jsonb)
returns void
language plpgsql immutable
security invoker
set search_path = ''
as $$
declare
  v_key text;
  v_value jsonb;
begin
  if jsonb_typeof(p_settings) <> 'object' then
    raise exception 'p_settings must be a JSON object' using errcode = '22023';
  end if;
  for v_key, v_value in select key, value from jsonb_each(p_settings) loop
    case v_key
      when 'niche' then
        if not (jsonb_typeof(v_value) = 'null'
                or (jsonb_typeof(v_value) = 'string' and char_length(v_value #>> '{}') between 1 and 64
                    and (v_value #>> '{}') !~ '[\x01-\x1f\x7f-\x9f\u2028\u2029\ufeff]')) then
          raise exception 'niche must be 1 to 64 characters without control characters, or null'
            using errcode = '22023';
        end if;
      when 'timezone' then
        if not (jsonb_typeof(v_value) = 'null'
                or (jsonb_typeof(v_value) = 'string' and char_length(v_value #>> '{}') between 1 and 64)) then
          raise exception 'timezone must be a zone name or null' using errcode = '22023';
        end if;
      when 'email_notifications' then
        if jsonb_typeof(v_value) <> 'boolean' then
          raise exception 'email_notifications must be a boolean' using errcode = '22023';
        end if;
      when 'posting_goal_per_week' then
        if not (jsonb_typeof(v_value) = 'null'
                or (jsonb_typeof(v_value) = 'number' and v_value::numeric = trunc(v_value::numeric)
                    and v_value::numeric between 0 and 50)) then
          raise exception 'posting_goal_per_week must be an integer from 0 to 50 or null'
            using errcode = '22023';
        end if;
      else
        raise exception 'unknown settings key: %', v_key using errcode = '22023';
    end case;
  end loop;
end
$$;

revoke all on function creator_sync_private.check_settings(jsonb) from public;
grant execute on function creator_sync_private.check_settings(jsonb) to authenticated;


drop function public.update_profile(jsonb, boolean, text);
create function public.update_profile(p_settings jsonb, p_set_handle boolean, p_handle text)
returns jsonb
language plpgsql volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := creator_sync_private.require_uid();
  v_settings jsonb := coalesce(p_settings, '{}'::jsonb);
  v_generation bigint;
  v_scrape jsonb := null;
begin
  perform creator_sync_private.check_settings(v_settings);

  if v_settings <> '{}'::jsonb then
    insert into public.user_settings as s (user_id, niche, timezone, email_notifications, posting_goal_per_week)
    values (
      v_uid,
      v_settings ->> 'niche',
      v_settings ->> 'timezone',
      coalesce((v_settings ->> 'email_notifications')::boolean, true),
      (v_settings ->> 'posting_goal_per_week')::smallint
    )
    on conflict (user_id) do update set
      niche = case when v_settings ? 'niche' then excluded.niche else s.niche end,
      timezone = case when v_settings ? 'timezone' then excluded.timezone else s.timezone end,
      email_notifications = case when v_settings ? 'email_notifications'
                                 then excluded.email_notifications else s.email_notifications end,
      posting_goal_per_week = case when v_settings ? 'posting_goal_per_week'
                                   then excluded.posting_goal_per_week else s.posting_goal_per_week end;
  end if;

  if coalesce(p_set_handle, false) then
    if p_handle is not null and p_handle !~ '^[a-z0-9_.]{1,23}[a-z0-9_]$' then
      raise exception 'invalid TikTok handle: %', p_handle using errcode = '22023';
    end if;
    -- The row first (idle, no handle: nothing to limit), then the change as an update, so that
    -- concurrent requests queue on the row lock and the guard trigger sees each one's true
    -- predecessor: it turns a changed handle into a new generation and applies the limits.
    if p_handle is not null then
      insert into public.creator_profiles (user_id) values (v_uid) on conflict (user_id) do nothing;
    end if;
    update public.creator_profiles set tiktok_handle = p_handle
      where user_id = v_uid and tiktok_handle is distinct from p_handle
      returning scrape_generation into v_generation;
    if v_generation is not null and p_handle is not null then
      v_scrape := jsonb_build_object('user_id', v_uid, 'tiktok_handle', p_handle, 'generation', v_generation);
    end if;
  end if;

  perform creator_sync_private.check_deadline();
  return jsonb_build_object('profile', creator_sync_private.profile_json(v_uid), 'scrape', v_scrape);
end
$$;

revoke all on function public.update_profile(jsonb, boolean, text) from public, anon, authenticated, service_role;
grant execute on function public.update_profile(jsonb, boolean, text) to authenticated;


-- The cooldown is the server's: the old signature took it from the caller and is gone.
drop function public.request_refresh(integer);
create function public.request_refresh()
returns jsonb
language plpgsql volatile
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := creator_sync_private.require_uid();
  v_row public.creator_profiles;
  v_detail text;
begin
  begin
    update public.creator_profiles set refresh_requested_at = now()
      where user_id = v_uid and tiktok_handle is not null
      returning * into v_row;
  exception when sqlstate 'PT429' then
    get stacked diagnostics v_detail = pg_exception_detail;
    return jsonb_build_object('retry_after', substring(v_detail from 'retry_after=(\d+)')::integer);
  end;
  if v_row.user_id is null then
    return jsonb_build_object('no_handle', true);
  end if;
  perform creator_sync_private.check_deadline();
  return jsonb_build_object(
    'profile', creator_sync_private.profile_json(v_uid),
    'scrape', jsonb_build_object(
      'user_id', v_uid, 'tiktok_handle', v_row.tiktok_handle, 'generation', v_row.scrape_generation));
end
$$;

revoke all on function public.request_refresh() from public, anon, authenticated, service_role;
grant execute on function public.request_refresh() to authenticated;


-- ---------------------------------------------------------------------------------------------
-- Service-role functions

-- Dollars spent on Apify runs started since midnight UTC (the budget's day).
create or replace function creator_sync_private.apify_spent_today()
returns numeric
language sql stable
security invoker
set search_path = ''
as $$
  select coalesce(sum(r.usage_usd), 0)
  from public.apify_runs as r
  where r.started_at >= date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'
$$;

revoke all on function creator_sync_private.apify_spent_today() from public;
grant execute on function creator_sync_private.apify_spent_today() to service_role;


-- When a succeeded profile is next due: the active interval for users seen recently (or never
-- recorded), the inactive one for the others.
create or replace function creator_sync_private.next_refresh_at(p_last_seen timestamptz)
returns timestamptz
language sql stable
security invoker
set search_path = ''
as $$
  select now() + make_interval(secs => case
    when p_last_seen is null or p_last_seen >= now() - make_interval(days => c.inactive_after_days)
      then c.refresh_after_seconds
    else c.inactive_refresh_after_seconds end)
  from creator_sync_private.service_config as c
$$;

revoke all on function creator_sync_private.next_refresh_at(timestamptz) from public;
grant execute on function creator_sync_private.next_refresh_at(timestamptz) to service_role;


-- Which requests still want a scrape. Requests whose handle another user scraped successfully
-- within p_reuse_seconds are served from that result here (no actor run) and listed as reused.
-- Also returns what Apify has cost today, for the worker's budget check.
drop function public.scrape_targets(jsonb);
create function public.scrape_targets(p_items jsonb, p_reuse_seconds integer default 600)
returns jsonb
language plpgsql volatile
security invoker
set search_path = ''
as $$
declare
  v_target record;
  v_donor public.creator_profiles;
  v_targets jsonb := '[]'::jsonb;
  v_reused jsonb := '[]'::jsonb;
begin
  if jsonb_typeof(coalesce(p_items, '[]'::jsonb)) <> 'array' then
    raise exception 'p_items must be a JSON array' using errcode = '22023';
  end if;
  for v_target in
    select c.user_id, c.scrape_generation, c.tiktok_handle
    from public.creator_profiles as c
    where (c.user_id, c.scrape_generation) in (
            select i.user_id, i.generation
            from jsonb_to_recordset(coalesce(p_items, '[]'::jsonb)) as i (user_id uuid, generation bigint))
      and c.tiktok_handle is not null and c.scrape_status in ('queued', 'failed')
    order by c.user_id
    for update of c
  loop
    select d.* into v_donor
    from public.creator_profiles as d
    where d.tiktok_handle = v_target.tiktok_handle
      and d.scrape_status = 'succeeded'
      and d.scraped_at > now() - make_interval(secs => greatest(coalesce(p_reuse_seconds, 0), 0))
      and d.user_id <> v_target.user_id
    order by d.scraped_at desc
    limit 1;
    if v_donor.user_id is not null then
      update public.creator_profiles as c set
        tiktok_user_id = v_donor.tiktok_user_id, display_name = v_donor.display_name,
        avatar_url = v_donor.avatar_url, bio = v_donor.bio, followers = v_donor.followers,
        following = v_donor.following, hearts = v_donor.hearts, videos = v_donor.videos,
        verified = v_donor.verified, private_account = v_donor.private_account,
        scrape_status = 'succeeded', scraped_at = v_donor.scraped_at, scrape_error = null,
        scrape_attempts = c.scrape_attempts + 1, retry_at = null, scrape_deferrals = 0,
        next_refresh_at = creator_sync_private.next_refresh_at(c.last_seen_at), updated_at = now()
      where c.user_id = v_target.user_id;
      v_reused := v_reused || jsonb_build_object(
        'user_id', v_target.user_id, 'generation', v_target.scrape_generation,
        'tiktok_handle', v_target.tiktok_handle);
    else
      v_targets := v_targets || jsonb_build_object(
        'user_id', v_target.user_id, 'generation', v_target.scrape_generation,
        'tiktok_handle', v_target.tiktok_handle);
    end if;
  end loop;
  return jsonb_build_object(
    'targets', v_targets, 'reused', v_reused, 'spent_today_usd', creator_sync_private.apify_spent_today());
end
$$;

revoke all on function public.scrape_targets(jsonb, integer) from public, anon, authenticated, service_role;
grant execute on function public.scrape_targets(jsonb, integer) to service_role;


-- Writes scrape outcomes, each on its own, only at the row's current generation [R5].
--   succeeded | not_found | private: final for the generation;
--   failed: final, never over a final outcome a duplicate delivery wrote;
--   deferred: the run failed as a whole (outage) or the budget is spent: the row stays queued
--     with the reason and `retry_at` (`retry_after_seconds` from now, or `retry_at`), for the reconciler.
-- A result the table refuses (a constraint, a bad value) is written `failed` with the reason
-- instead: an unusable profile is terminal for its generation and never rolls back the others.
-- p_results is json, not jsonb: jsonb refuses a whole document for one `\u0000`, json lets each
-- result fail on its own. p_run, when given, is recorded in the Apify run ledger.
drop function public.record_scrape_results(jsonb);
create function public.record_scrape_results(p_results json, p_run jsonb default null)
returns jsonb
language plpgsql volatile
security invoker
set search_path = ''
as $$
declare
  v_item json;
  v_result jsonb;
  v_poison text;
  v_user uuid;
  v_generation bigint;
  v_status text;
  v_applied boolean;
  v_rejected text;
  v_out jsonb := '[]'::jsonb;
begin
  if json_typeof(coalesce(p_results, '[]'::json)) <> 'array' then
    raise exception 'p_results must be a JSON array' using errcode = '22023';
  end if;

  if p_run is not null and jsonb_typeof(p_run) = 'object' then
    insert into public.apify_runs as r (run_id, actor_id, handles, reason, started_at, finished_at, status, usage_usd)
    values (
      p_run ->> 'run_id', p_run ->> 'actor_id',
      array(select jsonb_array_elements_text(p_run -> 'handles')),
      coalesce(p_run ->> 'reason', 'requested'),
      (p_run ->> 'started_at')::timestamptz, (p_run ->> 'finished_at')::timestamptz,
      p_run ->> 'status', (p_run ->> 'usage_usd')::numeric)
    on conflict (run_id) do update set
      finished_at = excluded.finished_at, status = excluded.status, usage_usd = excluded.usage_usd;
  end if;

  for v_item in select value from json_array_elements(coalesce(p_results, '[]'::json)) loop
    v_applied := false;
    v_rejected := null;
    v_user := null;
    v_generation := null;
    v_poison := null;
    begin
      begin
        v_result := v_item::jsonb;
      exception when untranslatable_character then
        -- A NUL anywhere: identify the result from a copy without it, then fail it below.
        v_result := replace(v_item::text, '\u0000', '')::jsonb;
        v_poison := 'a text value holds a NUL character';
      end;
      v_user := (v_result ->> 'user_id')::uuid;
      v_generation := (v_result ->> 'generation')::bigint;
      v_status := v_result ->> 'status';
      if v_user is null or v_generation is null then
        raise exception 'a result needs user_id and generation' using errcode = '22023';
      end if;
      begin
        if v_poison is not null then
          raise exception '%', v_poison using errcode = '22P05';
        end if;
        v_applied := creator_sync_private.apply_scrape_result(v_user, v_generation, v_status, v_result);
      exception when others then
        v_rejected := sqlerrm;
        if v_status in ('succeeded', 'not_found', 'private') then
          v_applied := creator_sync_private.apply_scrape_result(v_user, v_generation, 'failed',
            jsonb_build_object('error', left('the scraped profile was unusable: ' || sqlerrm, 1000)));
        end if;
      end;
    exception when others then
      v_rejected := sqlerrm;
    end;
    v_out := v_out || (jsonb_build_object(
      'user_id', v_user, 'generation', v_generation, 'applied', v_applied)
      || case when v_rejected is null then '{}'::jsonb else jsonb_build_object('rejected', v_rejected) end);
  end loop;
  return v_out;
end
$$;

revoke all on function public.record_scrape_results(json, jsonb) from public, anon, authenticated, service_role;
grant execute on function public.record_scrape_results(json, jsonb) to service_role;


-- One outcome for one (user, generation); true when a row changed.
create or replace function creator_sync_private.apply_scrape_result(
  p_user uuid, p_generation bigint, p_status text, p_result jsonb)
returns boolean
language plpgsql volatile
security invoker
set search_path = ''
as $$
declare
  v_profile jsonb := case when jsonb_typeof(p_result -> 'profile') = 'object' then p_result -> 'profile' end;
  v_error text := left(p_result ->> 'error', 1000);
begin
  if p_status = 'deferred' then
    update public.creator_profiles as c set
      scrape_status = 'queued',
      scrape_error = coalesce(v_error, 'deferred'),
      retry_at = coalesce(
        (p_result ->> 'retry_at')::timestamptz,
        now() + make_interval(secs => least(
          greatest(coalesce((p_result ->> 'retry_after_seconds')::integer, 60), 1)
            * power(2, least(c.scrape_deferrals, 16)),
          greatest(coalesce((p_result ->> 'retry_max_seconds')::integer, 900), 1)))),
      scrape_deferrals = c.scrape_deferrals + 1,
      updated_at = now()
    where c.user_id = p_user and c.scrape_generation = p_generation and c.tiktok_handle is not null
      and c.scrape_status in ('queued', 'failed');
    return found;
  elsif p_status = 'failed' then
    update public.creator_profiles as c set
      scrape_status = 'failed', scrape_error = coalesce(v_error, 'the scrape failed'),
      scrape_attempts = c.scrape_attempts + 1, retry_at = null, updated_at = now()
    where c.user_id = p_user and c.scrape_generation = p_generation and c.tiktok_handle is not null
      and c.scrape_status in ('queued', 'failed');
    return found;
  elsif p_status in ('succeeded', 'not_found', 'private') then
    update public.creator_profiles as c set
      tiktok_user_id = v_profile ->> 'tiktok_user_id',
      display_name = v_profile ->> 'display_name',
      avatar_url = v_profile ->> 'avatar_url',
      bio = v_profile ->> 'bio',
      followers = (v_profile ->> 'followers')::bigint,
      following = (v_profile ->> 'following')::bigint,
      hearts = (v_profile ->> 'hearts')::bigint,
      videos = (v_profile ->> 'videos')::bigint,
      verified = (v_profile ->> 'verified')::boolean,
      private_account = case when p_status = 'private' then true
                             else (v_profile ->> 'private_account')::boolean end,
      scrape_status = p_status,
      scraped_at = now(),
      scrape_error = v_error,
      scrape_attempts = c.scrape_attempts + 1,
      retry_at = null,
      scrape_deferrals = 0,
      next_refresh_at = case when p_status = 'succeeded'
                             then creator_sync_private.next_refresh_at(c.last_seen_at) end,
      updated_at = now()
    where c.user_id = p_user and c.scrape_generation = p_generation and c.tiktok_handle is not null;
    return found;
  end if;
  raise exception 'status must be one of succeeded, not_found, private, failed, deferred'
    using errcode = '22023';
end
$$;

revoke all on function creator_sync_private.apply_scrape_result(uuid, bigint, text, jsonb) from public;
grant execute on function creator_sync_private.apply_scrape_result(uuid, bigint, text, jsonb) to service_role;


-- Claims work for the reconciler, lost scrapes first, through three index ranges (part 1):
--   1. queued with no worker having seen it for p_lost_after_seconds (an SQS send was lost, or
--      every receive expired): reason `reconcile`;
--   2. deferred (outage, budget) and due: reason `reconcile`;
--   3. succeeded and due for a refresh: a new generation, reason `scheduled`.
-- Each range is read in index order under FOR UPDATE SKIP LOCKED, so concurrent reconcilers take
-- disjoint rows; claimed rows get scrape_requested_at = now() and are lost again only after
-- another p_lost_after_seconds. The refresh policy passed in is kept in service_config, where the
-- triggers and record_scrape_results read it.
drop function public.claim_reconcile(integer, integer, integer);
create function public.claim_reconcile(
  p_lost_after_seconds integer, p_refresh_after_seconds integer, p_limit integer,
  p_inactive_after_days integer default 14, p_inactive_refresh_after_seconds integer default 604800)
returns jsonb
language plpgsql volatile
security invoker
set search_path = ''
as $$
declare
  v_limit integer := least(greatest(coalesce(p_limit, 0), 0), 10000);
  v_lost_before timestamptz := now() - make_interval(secs => greatest(coalesce(p_lost_after_seconds, 0), 1));
  v_out jsonb := '[]'::jsonb;
  v_part jsonb;
begin
  update creator_sync_private.service_config set
    refresh_after_seconds = p_refresh_after_seconds,
    inactive_after_days = p_inactive_after_days,
    inactive_refresh_after_seconds = p_inactive_refresh_after_seconds,
    updated_at = now()
  where (refresh_after_seconds, inactive_after_days, inactive_refresh_after_seconds)
        is distinct from (p_refresh_after_seconds, p_inactive_after_days, p_inactive_refresh_after_seconds);

  with picked as (
    select c.user_id from public.creator_profiles as c
    where c.scrape_status = 'queued' and c.retry_at is null and c.scrape_requested_at < v_lost_before
    order by c.scrape_requested_at, c.user_id
    limit v_limit
    for update skip locked
  ), claimed as (
    update public.creator_profiles as c set scrape_requested_at = now(), updated_at = now()
    where c.user_id = any (array(select p.user_id from picked as p))
    returning c.user_id, c.tiktok_handle, c.scrape_generation
  )
  select coalesce(jsonb_agg(jsonb_build_object('user_id', user_id, 'tiktok_handle', tiktok_handle,
                                               'generation', scrape_generation, 'reason', 'reconcile')), '[]')
  into v_part from claimed;
  v_out := v_out || v_part;
  v_limit := v_limit - jsonb_array_length(v_part);

  with picked as (
    select c.user_id from public.creator_profiles as c
    where c.scrape_status = 'queued' and c.retry_at is not null and c.retry_at <= now()
    order by c.retry_at, c.user_id
    limit v_limit
    for update skip locked
  ), claimed as (
    update public.creator_profiles as c set scrape_requested_at = now(), retry_at = null, updated_at = now()
    where c.user_id = any (array(select p.user_id from picked as p))
    returning c.user_id, c.tiktok_handle, c.scrape_generation
  )
  select coalesce(jsonb_agg(jsonb_build_object('user_id', user_id, 'tiktok_handle', tiktok_handle,
                                               'generation', scrape_generation, 'reason', 'reconcile')), '[]')
  into v_part from claimed;
  v_out := v_out || v_part;
  v_limit := v_limit - jsonb_array_length(v_part);

  with picked as (
    select c.user_id from public.creator_profiles as c
    where c.scrape_status = 'succeeded' and c.next_refresh_at <= now()
    order by c.next_refresh_at, c.user_id
    limit v_limit
    for update skip locked
  ), claimed as (
    update public.creator_profiles as c set
      scrape_generation = c.scrape_generation + 1, scrape_status = 'queued',
      scrape_requested_at = now(), scrape_error = null, scrape_attempts = 0, updated_at = now()
    where c.user_id = any (array(select p.user_id from picked as p))
    returning c.user_id, c.tiktok_handle, c.scrape_generation
  )
  select coalesce(jsonb_agg(jsonb_build_object('user_id', user_id, 'tiktok_handle', tiktok_handle,
                                               'generation', scrape_generation, 'reason', 'scheduled')), '[]')
  into v_part from claimed;
  return v_out || v_part;
end
$$;

revoke all on function public.claim_reconcile(integer, integer, integer, integer, integer)
  from public, anon, authenticated, service_role;
grant execute on function public.claim_reconcile(integer, integer, integer, integer, integer) to service_role;
