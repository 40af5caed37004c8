-- RPC functions: the only write path. Every function pins search_path = '' and returns jsonb.
-- Definer functions act on auth.uid() only; the service-role functions are granted to no one else.

create schema if not exists creator_sync_private;
revoke all on schema creator_sync_private from public;
grant usage on schema creator_sync_private to authenticated, service_role;

-- The Profile document of DESIGN §3. Invoker: under get_profile, RLS still decides what is read.
create or replace function creator_sync_private.profile_json(p_user_id uuid)
returns jsonb
language sql stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'user_id', u.user_id,
    'niche', s.niche,
    'timezone', s.timezone,
    'email_notifications', coalesce(s.email_notifications, true),
    'posting_goal_per_week', s.posting_goal_per_week,
    'tiktok_handle', c.tiktok_handle,
    'creator', case when c.tiktok_handle is null then null else jsonb_build_object(
      'tiktok_user_id', c.tiktok_user_id,
      'display_name', c.display_name,
      'avatar_url', c.avatar_url,
      'bio', c.bio,
      'followers', c.followers,
      'following', c.following,
      'hearts', c.hearts,
      'videos', c.videos,
      'verified', c.verified,
      'private_account', c.private_account,
      'scrape', jsonb_build_object(
        'status', c.scrape_status,
        'requested_at', c.scrape_requested_at,
        'scraped_at', c.scraped_at,
        'error', c.scrape_error
      )
    ) end
  )
  from (select p_user_id as user_id) as u
  left join public.user_settings as s on s.user_id = u.user_id
  left join public.creator_profiles as c on c.user_id = u.user_id
$$;

revoke all on function creator_sync_private.profile_json(uuid) from public;
grant execute on function creator_sync_private.profile_json(uuid) to authenticated, service_role;

-- The caller's uid, or an error PostgREST maps to 401/403: these functions never act anonymously.
create or replace function creator_sync_private.require_uid()
returns uuid
language plpgsql stable
security invoker
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null then
    raise exception 'a signed-in user is required' using errcode = '42501';
  end if;
  return v_uid;
end
$$;

revoke all on function creator_sync_private.require_uid() from public;
grant execute on function creator_sync_private.require_uid() to authenticated;


create or replace function public.get_profile()
returns jsonb
language sql stable
security invoker
set search_path = ''
as $$
  select creator_sync_private.profile_json(creator_sync_private.require_uid())
$$;

revoke all on function public.get_profile() from public, anon, authenticated, service_role;
grant execute on function public.get_profile() to authenticated;


-- Validates p_settings against the settings whitelist and types; raises 22023 naming the key.
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
                or (jsonb_typeof(v_value) = 'string' and char_length(v_value #>> '{}') between 1 and 64)) then
          raise exception 'niche must be a string of 1 to 64 characters or null' using errcode = '22023';
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


create or replace function public.update_profile(p_settings jsonb, p_set_handle boolean, p_handle text)
returns jsonb
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := creator_sync_private.require_uid();
  v_settings jsonb := coalesce(p_settings, '{}'::jsonb);
  v_current public.creator_profiles;
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
                                   then excluded.posting_goal_per_week else s.posting_goal_per_week end,
      updated_at = now();
  end if;

  if coalesce(p_set_handle, false) then
    if p_handle is not null and p_handle !~ '^[a-z0-9_.]{1,23}[a-z0-9_]$' then
      raise exception 'invalid TikTok handle: %', p_handle using errcode = '22023';
    end if;

    insert into public.creator_profiles (user_id) values (v_uid) on conflict (user_id) do nothing;
    select * into v_current from public.creator_profiles where user_id = v_uid for update;

    if p_handle is distinct from v_current.tiktok_handle then
      update public.creator_profiles set
        tiktok_handle = p_handle,
        tiktok_user_id = null, display_name = null, avatar_url = null, bio = null,
        followers = null, following = null, hearts = null, videos = null,
        verified = null, private_account = null,
        scrape_status = case when p_handle is null then 'idle' else 'queued' end,
        scrape_generation = scrape_generation + 1,
        scrape_requested_at = case when p_handle is null then null else now() end,
        scraped_at = null,
        scrape_error = null,
        scrape_attempts = 0,
        updated_at = now()
      where user_id = v_uid
      returning * into v_current;

      if p_handle is not null then
        v_scrape := jsonb_build_object(
          'user_id', v_uid, 'tiktok_handle', v_current.tiktok_handle,
          'generation', v_current.scrape_generation);
      end if;
    end if;
  end if;

  return jsonb_build_object('profile', creator_sync_private.profile_json(v_uid), 'scrape', v_scrape);
end
$$;

revoke all on function public.update_profile(jsonb, boolean, text) from public, anon, authenticated, service_role;
grant execute on function public.update_profile(jsonb, boolean, text) to authenticated;


create or replace function public.request_refresh(p_cooldown_seconds integer)
returns jsonb
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := creator_sync_private.require_uid();
  v_row public.creator_profiles;
  v_ready_at timestamptz;
begin
  select * into v_row from public.creator_profiles where user_id = v_uid for update;
  if not found or v_row.tiktok_handle is null then
    return jsonb_build_object('no_handle', true);
  end if;

  v_ready_at := v_row.scrape_requested_at + make_interval(secs => greatest(coalesce(p_cooldown_seconds, 0), 0));
  if v_row.scrape_requested_at is not null and v_ready_at > now() then
    return jsonb_build_object('retry_after', greatest(ceil(extract(epoch from v_ready_at - now())), 1)::integer);
  end if;

  update public.creator_profiles set
    scrape_status = 'queued',
    scrape_generation = scrape_generation + 1,
    scrape_requested_at = now(),
    scrape_error = null,
    scrape_attempts = 0,
    updated_at = now()
  where user_id = v_uid
  returning * into v_row;

  return jsonb_build_object(
    'profile', creator_sync_private.profile_json(v_uid),
    'scrape', jsonb_build_object(
      'user_id', v_uid, 'tiktok_handle', v_row.tiktok_handle, 'generation', v_row.scrape_generation));
end
$$;

revoke all on function public.request_refresh(integer) from public, anon, authenticated, service_role;
grant execute on function public.request_refresh(integer) to authenticated;


-- Service role: which of these (user_id, generation) pairs still want a scrape.
create or replace function public.scrape_targets(p_items jsonb)
returns jsonb
language sql stable
security invoker
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'user_id', t.user_id, 'generation', t.scrape_generation, 'tiktok_handle', t.tiktok_handle)
           order by t.user_id), '[]'::jsonb)
  from (
    select distinct c.user_id, c.scrape_generation, c.tiktok_handle
    from jsonb_to_recordset(coalesce(p_items, '[]'::jsonb)) as i (user_id uuid, generation bigint)
    join public.creator_profiles as c
      on c.user_id = i.user_id and c.scrape_generation = i.generation
    where c.tiktok_handle is not null and c.scrape_status in ('queued', 'failed')
  ) as t
$$;

revoke all on function public.scrape_targets(jsonb) from public, anon, authenticated, service_role;
grant execute on function public.scrape_targets(jsonb) to service_role;


-- Service role: write scrape outcomes, each only at the row's current generation [R5].
-- A 'failed' outcome never overwrites a final one written by a duplicate delivery.
create or replace function public.record_scrape_results(p_results jsonb)
returns jsonb
language plpgsql volatile
security invoker
set search_path = ''
as $$
declare
  v_out jsonb;
begin
  if jsonb_typeof(coalesce(p_results, '[]'::jsonb)) <> 'array' then
    raise exception 'p_results must be a JSON array' using errcode = '22023';
  end if;
  if exists (
    select from jsonb_to_recordset(coalesce(p_results, '[]'::jsonb)) as r (status text)
    where r.status is null or r.status not in ('succeeded', 'not_found', 'private', 'failed')
  ) then
    raise exception 'status must be one of succeeded, not_found, private, failed' using errcode = '22023';
  end if;

  with r as (
    select distinct on (x.user_id, x.generation) x.*
    from jsonb_to_recordset(coalesce(p_results, '[]'::jsonb))
      as x (user_id uuid, generation bigint, status text, profile jsonb, error text)
  ),
  applied as (
    update public.creator_profiles as c set
      tiktok_user_id = case when r.status = 'failed' then c.tiktok_user_id else r.profile ->> 'tiktok_user_id' end,
      display_name = case when r.status = 'failed' then c.display_name else r.profile ->> 'display_name' end,
      avatar_url = case when r.status = 'failed' then c.avatar_url else r.profile ->> 'avatar_url' end,
      bio = case when r.status = 'failed' then c.bio else r.profile ->> 'bio' end,
      followers = case when r.status = 'failed' then c.followers else (r.profile ->> 'followers')::bigint end,
      following = case when r.status = 'failed' then c.following else (r.profile ->> 'following')::bigint end,
      hearts = case when r.status = 'failed' then c.hearts else (r.profile ->> 'hearts')::bigint end,
      videos = case when r.status = 'failed' then c.videos else (r.profile ->> 'videos')::bigint end,
      verified = case when r.status = 'failed' then c.verified else (r.profile ->> 'verified')::boolean end,
      private_account = case
        when r.status = 'failed' then c.private_account
        when r.status = 'private' then true
        else (r.profile ->> 'private_account')::boolean end,
      scrape_status = r.status,
      scraped_at = case when r.status = 'failed' then c.scraped_at else now() end,
      scrape_error = r.error,
      scrape_attempts = c.scrape_attempts + 1,
      updated_at = now()
    from r
    where c.user_id = r.user_id
      and c.scrape_generation = r.generation
      and c.tiktok_handle is not null
      and (r.status <> 'failed' or c.scrape_status in ('queued', 'failed'))
    returning c.user_id, c.scrape_generation
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'user_id', r.user_id, 'generation', r.generation,
           'applied', exists (select from applied as a
                              where a.user_id = r.user_id and a.scrape_generation = r.generation))
           order by r.user_id), '[]'::jsonb)
  into v_out
  from r;

  return v_out;
end
$$;

revoke all on function public.record_scrape_results(jsonb) from public, anon, authenticated, service_role;
grant execute on function public.record_scrape_results(jsonb) to service_role;


-- Service role: claim rows whose scrape was lost (queued too long) or is due (succeeded too long
-- ago). Claimed rows move scrape_requested_at to now, under skip locked, so concurrent
-- reconcilers take disjoint rows and a claimed row is not claimed again for another interval.
create or replace function public.claim_reconcile(
  p_lost_after_seconds integer, p_refresh_after_seconds integer, p_limit integer)
returns jsonb
language plpgsql volatile
security invoker
set search_path = ''
as $$
declare
  v_out jsonb;
begin
  with picked as (
    select c.user_id, c.scrape_status as old_status
    from public.creator_profiles as c
    where c.tiktok_handle is not null
      and (
        (c.scrape_status = 'queued'
          and coalesce(c.scrape_requested_at, '-infinity') < now() - make_interval(secs => p_lost_after_seconds))
        or (c.scrape_status = 'succeeded'
          and coalesce(c.scraped_at, c.scrape_requested_at, '-infinity')
              < now() - make_interval(secs => p_refresh_after_seconds))
      )
    order by c.scrape_requested_at nulls first, c.user_id
    limit greatest(p_limit, 0)
    for update skip locked
  ),
  claimed as (
    update public.creator_profiles as c set
      scrape_generation = case when p.old_status = 'succeeded'
                               then c.scrape_generation + 1 else c.scrape_generation end,
      scrape_status = 'queued',
      scrape_requested_at = now(),
      updated_at = now()
    from picked as p
    where c.user_id = p.user_id
    returning c.user_id, c.tiktok_handle, c.scrape_generation, p.old_status
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'user_id', user_id, 'tiktok_handle', tiktok_handle, 'generation', scrape_generation,
           'reason', case when old_status = 'succeeded' then 'scheduled' else 'reconcile' end)
           order by user_id), '[]'::jsonb)
  into v_out
  from claimed;

  return v_out;
end
$$;

revoke all on function public.claim_reconcile(integer, integer, integer)
  from public, anon, authenticated, service_role;
grant execute on function public.claim_reconcile(integer, integer, integer) to service_role;
