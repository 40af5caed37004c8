"""Supabase's database advisor (the splinter lints) finds nothing on our schema: the checks below
ask the catalog the questions of lints 0001, 0003, 0006, 0010, 0011, 0013, 0028 and 0029, on the
real database with every migration applied (DESIGN §4)."""

from __future__ import annotations

import pytest

from devstack.database import Database
from tests.support.postgres import admin_rows

SYSTEM_SCHEMAS = (
    "'pg_catalog', 'information_schema', 'pg_toast', 'auth', 'storage', 'vault', 'extensions',"
    " 'graphql', 'graphql_public', 'realtime', 'supabase_functions', 'supabase_migrations', 'cron', 'net'"
)

CHECKS = {
    # 0001 unindexed_foreign_keys: every foreign key has an index on exactly its columns.
    "0001_unindexed_foreign_keys": f"""
        select con.conrelid::regclass::text || '.' || con.conname as finding
        from pg_constraint as con
        where con.contype = 'f'
          and con.connamespace::regnamespace::text not in ({SYSTEM_SCHEMAS})
          and not exists (
            select from pg_index as i
            where i.indrelid = con.conrelid and i.indisvalid
              and string_to_array(i.indkey::text, ' ')::smallint[] = con.conkey)
    """,
    # 0003 auth_rls_initplan: auth.<fn>() in a policy is wrapped in a select (evaluated once).
    "0003_auth_rls_initplan": """
        select schemaname || '.' || tablename || ': ' || policyname as finding
        from pg_policies
        where (qual ~ 'auth\\.(uid|jwt|role|email)\\(\\)'
               and lower(qual) !~ 'select\\s+auth\\.(uid|jwt|role|email)\\(\\)')
           or (with_check ~ 'auth\\.(uid|jwt|role|email)\\(\\)'
               and lower(with_check) !~ 'select\\s+auth\\.(uid|jwt|role|email)\\(\\)')
    """,
    # 0006 multiple_permissive_policies: one permissive policy per table, role and action.
    "0006_multiple_permissive_policies": """
        select p.schemaname || '.' || p.tablename || ' ' || r.role || ' ' || a.action as finding
        from pg_policies as p
        cross join lateral unnest(p.roles) as r (role)
        cross join lateral unnest(case when p.cmd = 'ALL' then array['SELECT', 'INSERT', 'UPDATE', 'DELETE']
                                       else array[p.cmd] end) as a (action)
        where p.permissive = 'PERMISSIVE'
        group by p.schemaname, p.tablename, r.role, a.action
        having count(*) > 1
    """,
    # 0010 security_definer_view: no view in public without security_invoker.
    "0010_security_definer_view": """
        select c.oid::regclass::text as finding
        from pg_class as c
        where c.relkind = 'v' and c.relnamespace = 'public'::regnamespace
          and not coalesce(c.reloptions, '{}') && array['security_invoker=true', 'security_invoker=on']
    """,
    # 0011 function_search_path_mutable: every function of ours pins search_path = ''.
    "0011_function_search_path_mutable": f"""
        select p.oid::regprocedure::text as finding
        from pg_proc as p
        where p.pronamespace::regnamespace::text not in ({SYSTEM_SCHEMAS})
          and not coalesce(p.proconfig, '{{}}') && array['search_path=""']
    """,
    # 0013 rls_disabled_in_public: row level security on every public table.
    "0013_rls_disabled_in_public": """
        select c.oid::regclass::text as finding
        from pg_class as c
        where c.relkind in ('r', 'p') and c.relnamespace = 'public'::regnamespace and not c.relrowsecurity
    """,
    # 0028 / 0029: no SECURITY DEFINER function executable by anon or authenticated.
    "0028_anon_security_definer_function_executable": f"""
        select p.oid::regprocedure::text as finding
        from pg_proc as p
        where p.prosecdef and has_function_privilege('anon', p.oid, 'EXECUTE')
          and p.pronamespace::regnamespace::text not in ({SYSTEM_SCHEMAS})
    """,
    "0029_authenticated_security_definer_function_executable": f"""
        select p.oid::regprocedure::text as finding
        from pg_proc as p
        where p.prosecdef and has_function_privilege('authenticated', p.oid, 'EXECUTE')
          and p.pronamespace::regnamespace::text not in ({SYSTEM_SCHEMAS})
    """,
}


@pytest.mark.parametrize("lint", sorted(CHECKS))
def test_the_advisor_lint_finds_nothing(db: Database, lint: str) -> None:
    findings = [row["finding"] for row in admin_rows(db.url, CHECKS[lint])]
    assert findings == [], f"{lint}: {findings}"


def test_the_checks_can_fail(db: Database) -> None:
    """Each check sees a planted offence, so an empty answer above means something."""
    from tests.support.postgres import admin_execute

    admin_execute(
        db.url,
        """
        create table public.lint_probe (id int primary key, owner uuid references auth.users (id));
        create policy p1 on public.lint_probe for select to authenticated using (auth.uid() = owner);
        create policy p2 on public.lint_probe for select to authenticated using (true);
        create view public.lint_probe_view as select id from public.lint_probe;
        create function public.lint_probe_fn() returns int language sql security definer as 'select 1';
        """,
    )
    try:
        found = {lint for lint, sql in CHECKS.items() if admin_rows(db.url, sql)}
    finally:
        admin_execute(
            db.url,
            "drop view public.lint_probe_view; drop table public.lint_probe;"
            " drop function public.lint_probe_fn()",
        )
    assert found == set(CHECKS)
