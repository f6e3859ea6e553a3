import type { PgqrsMigration } from '../../migration.js'

/**
 * 0003_flow_control (Postgres): day-two queue features (issue 14).
 * - `timeout_ms` per message (a handler timeout that wins over the worker's), kept in the archive;
 * - the archive keeps a handler's `result` and the `started_at` of the delivery that settled it
 *   (database clock; `archived_at`/`dead_at` is when it finished);
 * - `pgqrs_settle_dequeue` settles with results and start times (same one round trip);
 * - `pgqrs_dequeue_queues`: one claim across several queues, by priority then age;
 * - `enqueue(...)`: enqueue from SQL (triggers, pg_cron) with the library's validation and NOTIFY.
 * Frozen text: imports nothing.
 */
export const flowControl: PgqrsMigration = {
  name: '0003_flow_control',
  statements: [
    String.raw`alter table {{schema}}.pgqrs_messages add column timeout_ms integer
  check (timeout_ms is null or timeout_ms > 0)`,
    String.raw`alter table {{schema}}.pgqrs_archive add column timeout_ms integer,
  add column result jsonb,
  add column started_at timestamptz`,
    String.raw`drop function {{schema}}.pgqrs_settle_dequeue(bigint[], uuid[], boolean, text, integer,
  double precision, bigint)`,
    // As 0001's, plus a result (jsonb, null for none) and a start time per settled message; the
    // rows keep the message table's column order (timeout_ms last).
    String.raw`create function {{schema}}.pgqrs_settle_dequeue(
  p_ids bigint[], p_leases uuid[], p_delete boolean,
  p_queue text, p_batch integer, p_lease_ms double precision, p_consumer bigint,
  p_results jsonb[], p_started timestamptz[])
returns table (settled bigint, id bigint, queue_id bigint, payload jsonb, priority integer,
  enqueued_at timestamptz, visible_at timestamptz, attempts integer, max_attempts integer,
  lease uuid, consumer_id bigint, producer_id bigint, dedupe_key text, last_error text,
  dequeued_at timestamptz, timeout_ms integer)
language plpgsql
set search_path = pg_catalog, {{schema}}, pg_temp
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
set enable_bitmapscan = off
set enable_sort = off
set jit = off
as $fn$
#variable_conflict use_column
begin
  if cardinality(p_ids) > 0 and p_delete then
    return query
      with gone as (
        delete from pgqrs_messages t
        using unnest(p_ids, p_leases) as x(id, lease)
        where t.id = x.id and t.lease = x.lease
        returning t.id
      )
      select gone.id, (null::pgqrs_messages).* from gone;
  elsif cardinality(p_ids) > 0 then
    return query
      with x as (select * from unnest(p_ids, p_leases, p_results, p_started)
        as x(id, lease, result, started)),
      moved as (
        delete from pgqrs_messages t using x
        where t.id = x.id and t.lease = x.lease
        returning t.*, x.result as x_result, x.started as x_started
      ),
      ins as (
        insert into pgqrs_archive (id, queue_id, payload, priority, enqueued_at, visible_at,
          attempts, max_attempts, lease, consumer_id, producer_id, dedupe_key, last_error,
          dequeued_at, archived_at, timeout_ms, result, started_at)
        select mv.id, mv.queue_id, mv.payload, mv.priority, mv.enqueued_at, mv.visible_at,
          mv.attempts, mv.max_attempts, mv.lease, mv.consumer_id, mv.producer_id, mv.dedupe_key,
          mv.last_error, mv.dequeued_at, now(), mv.timeout_ms, mv.x_result, mv.x_started
        from moved mv
        returning id
      )
      select ins.id, (null::pgqrs_messages).* from ins;
  end if;
  return query
    select null::bigint, d.*
    from pgqrs_dequeue(p_queue, p_batch, p_lease_ms, p_consumer) d;
end
$fn$`,
    // One claim across several queues (a worker with a handler per queue): the first p_batch
    // visible rows of each queue by the claim index (an index walk per queue, no sort of the
    // backlog), merged by priority then age, locked SKIP LOCKED. Rows whose lease ran out on the
    // last attempt are dead-lettered as in pgqrs_dequeue.
    String.raw`create function {{schema}}.pgqrs_dequeue_queues(
  p_queues text[], p_batch integer, p_lease_ms double precision, p_consumer bigint)
returns setof {{schema}}.pgqrs_messages
language plpgsql
set search_path = pg_catalog, {{schema}}, pg_temp
set jit = off
as $fn$
declare
  v_queues bigint[];
  v_missing text;
  v_live bigint[];
  v_dead bigint[];
begin
  select array_agg(q.id) into v_queues from pgqrs_queues q where q.name = any(p_queues);
  if v_queues is null or cardinality(v_queues) < cardinality(array(select distinct unnest(p_queues))) then
    select min(n) into v_missing from unnest(p_queues) n
      where not exists (select 1 from pgqrs_queues q where q.name = n);
    raise exception 'pgqrs: queue % does not exist', v_missing
      using errcode = 'P0002', detail = v_missing;
  end if;
  select array_agg(c.id order by c.ord) filter (where c.attempts < c.max_attempts),
         array_agg(c.id) filter (where c.attempts >= c.max_attempts)
    into v_live, v_dead
    from (
      select l.id, l.attempts, l.max_attempts,
        row_number() over (order by l.priority desc, l.visible_at, l.id) as ord
      from (
        select m.id, m.attempts, m.max_attempts, m.priority, m.visible_at from pgqrs_messages m
        where m.id in (
          select c2.id from unnest(v_queues) as vq(qid)
          cross join lateral (
            select m2.id, m2.priority, m2.visible_at from pgqrs_messages m2
            where m2.queue_id = vq.qid and m2.visible_at <= now()
            order by m2.priority desc, m2.visible_at, m2.id
            limit p_batch
          ) c2
          order by c2.priority desc, c2.visible_at, c2.id
          limit p_batch)
        and m.visible_at <= now()
        for update skip locked
      ) l
    ) c;
  if v_dead is not null then
    with dead as (
      delete from pgqrs_messages m where m.id = any(v_dead) returning m.*
    )
    insert into pgqrs_archive (id, queue_id, payload, priority, enqueued_at, visible_at,
      attempts, max_attempts, lease, consumer_id, producer_id, dedupe_key, last_error,
      dequeued_at, dead_at, timeout_ms)
    select d.id, d.queue_id, d.payload, d.priority, d.enqueued_at, d.visible_at, d.attempts,
      d.max_attempts, null, d.consumer_id, d.producer_id, d.dedupe_key,
      'lease expired on attempt ' || d.attempts || ' of ' || d.max_attempts
        || coalesce(' (last error: ' || d.last_error || ')', ''),
      d.dequeued_at, now(), d.timeout_ms
    from dead d;
  end if;
  if v_live is null then
    return;
  end if;
  return query
    with leased as (
      update pgqrs_messages m set
        visible_at = now() + p_lease_ms * interval '1 millisecond',
        attempts = m.attempts + 1,
        lease = gen_random_uuid(),
        consumer_id = p_consumer,
        dequeued_at = coalesce(m.dequeued_at, now())
      where m.id = any(v_live)
      returning m.*
    )
    select l.* from leased l
    join unnest(v_live) with ordinality as x(id, ord) on x.id = l.id
    order by x.ord;
end
$fn$`,
    // A payload as the library's default validation accepts it: at most 1 MiB serialised, at
    // most 32 levels deep, no __proto__/constructor/prototype key at any level. Raises 22023
    // naming the path.
    String.raw`create function {{schema}}.pgqrs_check_payload(p_payload jsonb)
returns void
language plpgsql
set search_path = pg_catalog, {{schema}}, pg_temp
as $fn$
declare
  v_bad record;
  v_bytes integer := octet_length(p_payload::text);
begin
  if v_bytes > 1048576 then
    raise exception 'pgqrs: payload is % bytes serialised; at most 1048576 bytes are allowed',
      v_bytes using errcode = '22023';
  end if;
  with recursive walk(v, depth, path) as (
    select p_payload, 0, '$'::text
    union all
    select e.v, w.depth + 1, w.path || e.p
    from walk w cross join lateral (
      select o.value as v, '.' || o.key as p from jsonb_each(
        case when jsonb_typeof(w.v) = 'object' then w.v else '{}'::jsonb end) o
      union all
      select a.value, '[' || (a.ord - 1) || ']' from jsonb_array_elements(
        case when jsonb_typeof(w.v) = 'array' then w.v else '[]'::jsonb end)
        with ordinality as a(value, ord)
    ) e
    where w.depth <= 32
  )
  select w.path, w.depth,
    (select k from jsonb_object_keys(case when jsonb_typeof(w.v) = 'object' then w.v
      else '{}'::jsonb end) k where k in ('__proto__', 'constructor', 'prototype') limit 1) as key
  into v_bad
  from walk w
  where (w.depth >= 32 and jsonb_typeof(w.v) in ('object', 'array'))
    or (jsonb_typeof(w.v) = 'object' and w.v ?| array['__proto__', 'constructor', 'prototype'])
  limit 1;
  if found and v_bad.key is not null then
    raise exception 'pgqrs: invalid payload key %.%: the key "%" is forbidden',
      v_bad.path, v_bad.key, v_bad.key using errcode = '22023';
  elsif found then
    raise exception 'pgqrs: invalid payload at %: nesting deeper than 32 levels is not allowed',
      v_bad.path using errcode = '22023';
  end if;
end
$fn$`,
    // Enqueue from SQL (a trigger, pg_cron, psql): the same checks and NOTIFY as the library's
    // enqueue; commits or rolls back with the caller's transaction. With a dedupe key that is
    // active already, returns that message's id. Returns the message id.
    String.raw`create function {{schema}}.enqueue(
  queue_name text, payload jsonb, delay interval default null, priority integer default 0,
  dedupe_key text default null, max_attempts integer default 5, run_at timestamptz default null,
  timeout_ms integer default null)
returns bigint
language plpgsql
set search_path = pg_catalog, {{schema}}, pg_temp
as $fn$
#variable_conflict use_column
declare
  v_queue bigint;
  v_id bigint;
  v_schema text;
  v_channel text;
begin
  if queue_name is null or queue_name !~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' then
    raise exception 'pgqrs: invalid queue name %: use 1-128 characters from [A-Za-z0-9_.:-], starting with a letter or digit',
      coalesce(quote_literal(queue_name), 'null') using errcode = '22023';
  end if;
  select q.id into v_queue from pgqrs_queues q where q.name = queue_name;
  if v_queue is null then
    raise exception 'pgqrs: queue % does not exist', queue_name using errcode = 'P0002';
  end if;
  if payload is null then
    raise exception 'pgqrs: payload is null: pass a JSON value (''null''::jsonb for JSON null)'
      using errcode = '22023';
  end if;
  perform pgqrs_check_payload(payload);
  if delay is not null and (delay < interval '0' or delay > interval '10 years') then
    raise exception 'pgqrs: invalid delay %: use an interval from 0 to 10 years', delay
      using errcode = '22023';
  end if;
  if priority is null or max_attempts is null or max_attempts < 1 then
    raise exception 'pgqrs: invalid priority % or max_attempts %: priority is an integer, max_attempts at least 1',
      priority, max_attempts using errcode = '22023';
  end if;
  if timeout_ms is not null and timeout_ms < 1 then
    raise exception 'pgqrs: invalid timeout_ms %: use a positive number of ms', timeout_ms
      using errcode = '22023';
  end if;
  if dedupe_key is not null and (length(dedupe_key) < 1 or length(dedupe_key) > 512) then
    raise exception 'pgqrs: invalid dedupe_key: use 1-512 characters' using errcode = '22023';
  end if;
  insert into pgqrs_messages as m (queue_id, payload, priority, enqueued_at, visible_at,
    max_attempts, dedupe_key, timeout_ms)
  values (v_queue, enqueue.payload, enqueue.priority, now(),
    coalesce(enqueue.run_at, now() + coalesce(enqueue.delay, interval '0')),
    enqueue.max_attempts, enqueue.dedupe_key, enqueue.timeout_ms)
  on conflict (queue_id, dedupe_key) where dedupe_key is not null do nothing
  returning m.id into v_id;
  if v_id is null then
    select m.id into v_id from pgqrs_messages m
    where m.queue_id = v_queue and m.dedupe_key = enqueue.dedupe_key;
    return v_id;
  end if;
  select n.nspname into v_schema from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.oid = 'pgqrs_queues'::regclass;
  v_channel := case when octet_length('pgqrs:' || v_schema) <= 63 then 'pgqrs:' || v_schema
    else 'pgqrs:' || left(encode(sha256(convert_to(v_schema, 'UTF8')), 'hex'), 40) end;
  perform pg_notify(v_channel, queue_name);
  return v_id;
end
$fn$`,
  ],
}
