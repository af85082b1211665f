/* See raft_shim.h ("Snapshots") and raft_shim_internal.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/raft_shim_internal.h"

static uint64_t nowNs(void)
{
  return uv_hrtime();
}

/* ------------------------------------------------------------------------
 * Snapshots, off the loop thread.
 *
 * libraft 0.22 (cowsql/raft, src/legacy.c) calls fsm->snapshot and then,
 * for a version-3 FSM, fsm->snapshot_async back to back on the loop thread
 * and writes whatever they return at once, at raft_commit_index(); and it
 * keeps applying committed entries while that write is in flight. So the
 * encoding must be ready before libraft asks. The shim therefore:
 *
 *  1. declines libraft's first request (RAFT_BUSY: libraft drops the attempt
 *     and asks again on its next event) and starts ops.snapshot_encode on a
 *     libuv pool thread, recording the state's index `base_index`;
 *  2. while that runs, holds the FSM still: committed commands are copied
 *     into `tail` instead of applied, and the completions of raft_apply and
 *     raft_barrier requests at or after them wait with them (their callers
 *     must not see an acknowledgement before the FSM has the entry);
 *  3. once the encode is done, applies the held commands a few milliseconds
 *     per loop iteration and fires the completions in order;
 *  4. answers libraft's next request, at index M, with an envelope: the
 *     encoding at base_index plus every command in (base_index, M]. Restoring
 *     it restores the encoding and re-applies those commands, which gives
 *     the state at M because the FSM is deterministic.
 *
 * Snapshot envelope (persisted; append only). Little-endian:
 *   0   magic "SRSN"
 *   4   version u32 (1)
 *   8   base length u64
 *   16  tail entry count u64
 *   24  tail length u64 (bytes after the base)
 *   32  FNV-1a 64 of the tail bytes
 *   40  base: an ops.snapshot_encode() result
 *   ..  tail: per command [index u64][length u64][bytes][zero pad to 8]
 * A snapshot that does not start with the magic is a plain ops.snapshot()
 * (written by builds before the envelope, or with snapshot_encode unset). */

#define ENVELOPE_HEADER 40
#define ENVELOPE_VERSION 1
static const unsigned char envelopeMagic[4] = {'S', 'R', 'S', 'N'};
/* Loop time one replay slice may take before yielding to I/O. */
#define REPLAY_SLICE_NS (5 * 1000 * 1000)
#define GAP_TIMER_MS 10

static void putU64(unsigned char *p, uint64_t v)
{
  int i;
  for (i = 0; i < 8; i++) {
    p[i] = (unsigned char)(v >> (8 * i));
  }
}

static uint64_t getU64(const unsigned char *p)
{
  uint64_t v = 0;
  int i;
  for (i = 0; i < 8; i++) {
    v |= (uint64_t)p[i] << (8 * i);
  }
  return v;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
  uint64_t h = 14695981039346656037ull;
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

static size_t pad8(size_t n)
{
  return (n + 7) & ~(size_t)7;
}

/* The index through which the FSM has really applied: libraft's
 * last_applied, unless commands are held. */
uint64_t snapFsmApplied(struct bgSnapshot *s)
{
  if (s->replay_pos < s->tail_n) {
    return s->tail[s->replay_pos].index - 1;
  }
  return raft_last_applied(s->raft);
}

static void heldFire(struct bgSnapshot *s)
{
  const uint64_t applied = snapFsmApplied(s);
  while (s->held_head != NULL && s->held_head->index <= applied) {
    struct heldCompletion *c = s->held_head;
    s->held_head = c->next;
    if (s->held_head == NULL) {
      s->held_tail = NULL;
    }
    c->fire(c);
  }
}

/* Queues `c` if the FSM has not applied through c->index (or earlier
 * completions wait); returns false if the caller should fire it now. */
bool snapHoldCompletion(struct bgSnapshot *s, struct heldCompletion *c)
{
  if (s->held_head == NULL && c->index <= snapFsmApplied(s)) {
    return false;
  }
  c->next = NULL;
  if (s->held_tail != NULL) {
    s->held_tail->next = c;
  } else {
    s->held_head = c;
  }
  s->held_tail = c;
  return true;
}

static void tailAppend(struct bgSnapshot *s, uint64_t index, const void *data,
                       size_t len)
{
  struct tailEntry *e;
  if (s->tail_n == s->tail_cap) {
    size_t cap = s->tail_cap == 0 ? 1024 : 2 * s->tail_cap;
    struct tailEntry *t = realloc(s->tail, cap * sizeof *t);
    if (t == NULL) {
      fprintf(stderr, "consensus: out of memory holding log entry %llu\n",
              (unsigned long long)index);
      abort();
    }
    s->tail = t;
    s->tail_cap = cap;
  }
  e = &s->tail[s->tail_n];
  e->index = index;
  e->len = len;
  e->data = malloc(len == 0 ? 1 : len);
  if (e->data == NULL) {
    fprintf(stderr, "consensus: out of memory holding log entry %llu\n",
            (unsigned long long)index);
    abort();
  }
  memcpy(e->data, data, len);
  s->tail_n++;
}

static void tailApplyOne(struct bgSnapshot *s, const struct tailEntry *e)
{
  if (s->ops->apply(s->ops->ctx, e->index, e->data, e->len) != 0) {
    /* libraft treats a failed apply as fatal too (it asserts). */
    fprintf(stderr, "consensus: applying held log entry %llu failed\n",
            (unsigned long long)e->index);
    abort();
  }
}

/* Applies held commands, for at most `budget_ns` of loop time, then fires
 * the completions they satisfy. */
static void snapReplay(struct bgSnapshot *s, uint64_t budget_ns)
{
  const uint64_t t0 = nowNs();
  size_t i;
  while (!s->encoding && s->replay_pos < s->tail_n) {
    struct tailEntry *e = &s->tail[s->replay_pos];
    tailApplyOne(s, e);
    s->replay_pos++;
    if (!s->base_ready) {
      /* Not part of a snapshot to come: free as we go. */
      free(e->data);
      e->data = NULL;
    }
    if ((s->replay_pos & 31) == 0 && nowNs() - t0 > budget_ns) {
      break;
    }
  }
  if (!s->base_ready && s->replay_pos == s->tail_n) {
    for (i = 0; i < s->tail_n; i++) {
      free(s->tail[i].data);
    }
    s->tail_n = 0;
    s->replay_pos = 0;
  }
  heldFire(s);
}

static void replayIdleCb(uv_idle_t *idle)
{
  struct bgSnapshot *s = idle->data;
  snapReplay(s, REPLAY_SLICE_NS);
  if (s->encoding || s->replay_pos == s->tail_n) {
    uv_idle_stop(idle);
  }
}

static void gapTimerCb(uv_timer_t *timer)
{
  struct bgSnapshot *s = timer->data;
  const uint64_t now = nowNs();
  if (s->gap_last_ns != 0 && now - s->gap_last_ns > s->gap_max_ns) {
    s->gap_max_ns = now - s->gap_last_ns;
  }
  s->gap_last_ns = now;
}

/* libuv pool thread. The loop thread neither applies nor restores while
 * `encoding` is set, so the FSM holds still. */
static void snapWorkCb(uv_work_t *work)
{
  struct bgSnapshot *s = work->data;
  void *data = NULL;
  size_t len = 0;
  const uint64_t t0 = nowNs();
  int rv = s->ops->snapshot_encode(s->ops->ctx, &data, &len);
  uv_mutex_lock(&s->mu);
  s->rv = rv;
  s->data = rv == 0 ? data : NULL;
  s->len = len;
  s->encode_ns = nowNs() - t0;
  s->done = true;
  uv_cond_broadcast(&s->cv);
  uv_mutex_unlock(&s->mu);
}

/* Loop thread, once the worker is done: keeps its encoding as the base of
 * the next snapshot and lets the FSM move again. Idempotent. */
static void snapCollect(struct bgSnapshot *s)
{
  int rv;
  void *data;
  size_t len;
  if (!s->encoding) {
    return;
  }
  uv_mutex_lock(&s->mu);
  while (!s->done) {
    uv_cond_wait(&s->cv, &s->mu);
  }
  rv = s->rv;
  data = s->data;
  len = s->len;
  s->data = NULL;
  uv_mutex_unlock(&s->mu);
  s->encoding = false;
  if (rv == 0 && !s->closing) {
    s->base = data;
    s->base_len = len;
    s->base_ready = true;
  } else {
    raft_free(data);
  }
  if (s->replay_pos < s->tail_n && !s->closing) {
    uv_idle_start(&s->replay_idle, replayIdleCb);
  }
}

static void snapAfterWorkCb(uv_work_t *work, int status)
{
  struct bgSnapshot *s = work->data;
  (void)status; /* Never cancelled. */
  s->work_busy = false;
  snapCollect(s);
}

/* The base is gone (handed to libraft, or dropped): the commands recorded
 * for its tail are no longer needed once applied; keep only the rest. */
static void snapForgetBase(struct bgSnapshot *s)
{
  size_t i;
  s->base = NULL;
  s->base_ready = false;
  if (s->replay_pos == 0) {
    return; /* Also: `tail` may be NULL. */
  }
  for (i = 0; i < s->replay_pos; i++) {
    free(s->tail[i].data);
  }
  memmove(s->tail, s->tail + s->replay_pos,
          (s->tail_n - s->replay_pos) * sizeof *s->tail);
  s->tail_n -= s->replay_pos;
  s->replay_pos = 0;
}

/* Drops a base that will never be handed to libraft; held commands not yet
 * applied stay held. */
static void snapDropBase(struct bgSnapshot *s)
{
  if (s->base_ready) {
    raft_free(s->base);
    snapForgetBase(s);
  }
}

/* Waits for a running encode (blocking the loop thread: only for a restore
 * or shutdown, which need the FSM to themselves), applies every held
 * command, fires the held completions and forgets any base. */
static void snapQuiesce(struct bgSnapshot *s)
{
  snapCollect(s);
  snapDropBase(s);
  snapReplay(s, UINT64_MAX);
  uv_idle_stop(&s->replay_idle);
}

static void snapStart(struct bgSnapshot *s)
{
  s->base_index = raft_last_applied(s->raft);
  s->done = false;
  s->encoding = true;
  s->work_busy = true;
  s->started_ns = nowNs();
  s->gap_max_ns = 0;
  s->work.data = s;
  if (uv_queue_work(s->loop, &s->work, snapWorkCb,
                    snapAfterWorkCb) != 0) {
    s->encoding = false;
    s->work_busy = false;
  }
}

/* Hands libraft the envelope: the base plus every command recorded since
 * base_index (all of them applied by libraft, so all <= its snapshot index). */
static int snapHandOver(struct bgSnapshot *s, struct raft_buffer *bufs[],
                        unsigned *n_bufs)
{
  const uint64_t t0 = nowNs();
  const uint64_t index = raft_last_applied(s->raft);
  unsigned char *hdr, *tail, *p;
  size_t tail_len = 0, i;
  sider_raft_snapshot_info info;
  for (i = 0; i < s->tail_n; i++) {
    tail_len += 16 + pad8(s->tail[i].len);
  }
  *bufs = raft_malloc(3 * sizeof **bufs);
  hdr = raft_malloc(ENVELOPE_HEADER);
  tail = raft_malloc(tail_len == 0 ? 8 : tail_len);
  if (*bufs == NULL || hdr == NULL || tail == NULL) {
    raft_free(*bufs);
    raft_free(hdr);
    raft_free(tail);
    *bufs = NULL;
    return RAFT_NOMEM; /* libraft asks again; the base is kept. */
  }
  p = tail;
  for (i = 0; i < s->tail_n; i++) {
    const struct tailEntry *e = &s->tail[i];
    putU64(p, e->index);
    putU64(p + 8, e->len);
    memcpy(p + 16, e->data, e->len);
    memset(p + 16 + e->len, 0, pad8(e->len) - e->len);
    p += 16 + pad8(e->len);
  }
  memcpy(hdr, envelopeMagic, 4);
  hdr[4] = ENVELOPE_VERSION;
  hdr[5] = hdr[6] = hdr[7] = 0;
  putU64(hdr + 8, s->base_len);
  putU64(hdr + 16, s->tail_n);
  putU64(hdr + 24, tail_len);
  putU64(hdr + 32, fnv1a(tail, tail_len));
  (*bufs)[0].base = hdr;
  (*bufs)[0].len = ENVELOPE_HEADER;
  (*bufs)[1].base = s->base;
  (*bufs)[1].len = s->base_len;
  (*bufs)[2].base = tail;
  (*bufs)[2].len = tail_len;
  *n_bufs = 3;

  info.index = index;
  info.base_index = s->base_index;
  info.tail_entries = s->tail_n;
  info.bytes = ENVELOPE_HEADER + s->base_len + tail_len;
  info.encode_us = s->encode_ns / 1000;
  info.handover_us = 0;
  info.max_loop_gap_ms = s->gap_max_ns / 1000000;

  snapForgetBase(s); /* libraft owns the base now (version-1 FSM). */
  info.handover_us = (nowNs() - t0) / 1000;
  if (s->ops->snapshot_taken != NULL) {
    s->ops->snapshot_taken(s->ops->ctx, &info);
  }
  return 0;
}

/* Checks a whole envelope before anything is restored. */
static bool envelopeCheck(const unsigned char *p, size_t len)
{
  uint64_t base_len, count, tail_len, i;
  const unsigned char *t, *end;
  uint64_t prev = 0;
  if (len < ENVELOPE_HEADER || p[4] != ENVELOPE_VERSION || p[5] != 0 ||
      p[6] != 0 || p[7] != 0) {
    return false;
  }
  base_len = getU64(p + 8);
  count = getU64(p + 16);
  tail_len = getU64(p + 24);
  if (base_len > len - ENVELOPE_HEADER ||
      tail_len != len - ENVELOPE_HEADER - base_len) {
    return false;
  }
  t = p + ENVELOPE_HEADER + base_len;
  end = t + tail_len;
  if (fnv1a(t, tail_len) != getU64(p + 32)) {
    return false;
  }
  for (i = 0; i < count; i++) {
    uint64_t index, n;
    if ((size_t)(end - t) < 16) {
      return false;
    }
    index = getU64(t);
    n = getU64(t + 8);
    if (index <= prev || n > (size_t)(end - t) - 16 ||
        pad8(n) > (size_t)(end - t) - 16) {
      return false;
    }
    prev = index;
    t += 16 + pad8(n);
  }
  return t == end;
}

static int restoreEnvelope(struct bgSnapshot *s, const unsigned char *p, size_t len)
{
  const unsigned char *t;
  uint64_t base_len, count, i;
  int rv;
  if (!envelopeCheck(p, len)) {
    fprintf(stderr, "consensus: snapshot envelope is corrupt\n");
    return RAFT_CORRUPT;
  }
  base_len = getU64(p + 8);
  count = getU64(p + 16);
  rv = s->ops->restore(s->ops->ctx, p + ENVELOPE_HEADER, base_len);
  if (rv != 0) {
    return rv;
  }
  t = p + ENVELOPE_HEADER + base_len;
  for (i = 0; i < count; i++) {
    struct tailEntry e;
    e.index = getU64(t);
    e.len = getU64(t + 8);
    e.data = (void *)(t + 16);
    tailApplyOne(s, &e);
    t += 16 + pad8(e.len);
  }
  return 0;
}

int snapApply(struct bgSnapshot *s, uint64_t index, const void *data, size_t len)
{
  const bool behind = s->encoding || s->replay_pos < s->tail_n;
  int rv;
  if (behind || s->base_ready) {
    tailAppend(s, index, data, len);
  }
  if (behind) {
    return 0; /* Applied by snapReplay, in order. */
  }
  rv = s->ops->apply(s->ops->ctx, index, data, len);
  if (s->base_ready) {
    s->replay_pos = s->tail_n;
  }
  return rv;
}

/* A nonzero return makes libraft drop this attempt (legacyTakeSnapshot) and
 * ask again on its next event while the threshold is still exceeded. */
int snapTake(struct bgSnapshot *s, struct raft_buffer *bufs[], unsigned *n_bufs)
{
  if (s->base_ready) {
    return snapHandOver(s, bufs, n_bufs);
  }
  /* Start only from a quiet FSM: nothing held, so it is exactly as of
   * last_applied. */
  if (!s->work_busy && !s->closing && s->replay_pos == s->tail_n) {
    snapStart(s);
  }
  return RAFT_BUSY;
}

int snapRestore(struct bgSnapshot *s, struct raft_buffer *buf)
{
  int rv;
  /* The restore replaces the FSM: it needs the worker gone, and the held
   * commands (all below the snapshot's index) applied so that their
   * completions carry real results. */
  snapQuiesce(s);
  if (buf->len >= 4 && memcmp(buf->base, envelopeMagic, 4) == 0) {
    rv = restoreEnvelope(s, buf->base, buf->len);
  } else {
    rv = s->ops->restore(s->ops->ctx, buf->base, buf->len);
  }
  if (rv != 0) {
    return rv;
  }
  raft_free(buf->base);
  return 0;
}

void snapInit(struct bgSnapshot *s, uv_loop_t *loop, struct raft *raft,
              const sider_raft_fsm_ops *ops)
{
  s->loop = loop;
  s->raft = raft;
  s->ops = ops;
  uv_mutex_init(&s->mu);
  uv_cond_init(&s->cv);
  uv_idle_init(loop, &s->replay_idle);
  s->replay_idle.data = s;
  uv_timer_init(loop, &s->gap_timer);
  s->gap_timer.data = s;
  uv_timer_start(&s->gap_timer, gapTimerCb, GAP_TIMER_MS, GAP_TIMER_MS);
  s->handles_open = 2;
}

void snapResetGap(struct bgSnapshot *s)
{
  s->gap_last_ns = 0;
  s->gap_max_ns = 0;
}

void snapBeginClose(struct bgSnapshot *s)
{
  s->closing = true;
}

static void handleClosedCb(uv_handle_t *handle)
{
  struct bgSnapshot *s = handle->data;
  if (--s->handles_open == 0) {
    s->closed_cb(s->closed_arg);
  }
}

/* A running encode is waited for; its after-callback still runs later, as
 * a no-op, before the loop can end. */
void snapClose(struct bgSnapshot *s, void (*cb)(void *arg), void *arg)
{
  s->closing = true;
  snapQuiesce(s);
  s->closed_cb = cb;
  s->closed_arg = arg;
  uv_timer_stop(&s->gap_timer);
  uv_close((uv_handle_t *)&s->replay_idle, handleClosedCb);
  uv_close((uv_handle_t *)&s->gap_timer, handleClosedCb);
}

void snapDestroy(struct bgSnapshot *s)
{
  size_t i;
  raft_free(s->base);
  for (i = 0; i < s->tail_n; i++) {
    free(s->tail[i].data);
  }
  free(s->tail);
  uv_cond_destroy(&s->cv);
  uv_mutex_destroy(&s->mu);
}
