/* See raft_shim.h. C, because libraft 0.22's header does not compile as
 * C++. Nothing here allocates C++ objects or knows about the state machine
 * beyond the ops table. */
#include "consensus/raft_shim.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "consensus/raft_shim_internal.h"

_Static_assert((int)SIDER_RAFT_NOMEM == (int)RAFT_NOMEM, "error codes");
_Static_assert((int)SIDER_RAFT_BADID == (int)RAFT_BADID, "error codes");
_Static_assert((int)SIDER_RAFT_NOTLEADER == (int)RAFT_NOTLEADER, "error codes");
_Static_assert((int)SIDER_RAFT_LEADERSHIPLOST == (int)RAFT_LEADERSHIPLOST, "error codes");
_Static_assert((int)SIDER_RAFT_SHUTDOWN == (int)RAFT_SHUTDOWN, "error codes");
_Static_assert((int)SIDER_RAFT_CANTBOOTSTRAP == (int)RAFT_CANTBOOTSTRAP, "error codes");
_Static_assert((int)SIDER_RAFT_CANTCHANGE == (int)RAFT_CANTCHANGE, "error codes");
_Static_assert((int)SIDER_RAFT_CORRUPT == (int)RAFT_CORRUPT, "error codes");
_Static_assert((int)SIDER_RAFT_CANCELED == (int)RAFT_CANCELED, "error codes");
_Static_assert((int)SIDER_RAFT_TOOBIG == (int)RAFT_TOOBIG, "error codes");
_Static_assert((int)SIDER_RAFT_NOCONNECTION == (int)RAFT_NOCONNECTION, "error codes");
_Static_assert((int)SIDER_RAFT_BUSY == (int)RAFT_BUSY, "error codes");
_Static_assert((int)SIDER_RAFT_NOTFOUND == (int)RAFT_NOTFOUND, "error codes");
_Static_assert((int)SIDER_RAFT_NOSPACE == (int)RAFT_NOSPACE, "error codes");
_Static_assert((int)SIDER_RAFT_STATE_LEADER == (int)RAFT_LEADER, "states");
_Static_assert((int)SIDER_RAFT_STATE_FOLLOWER == (int)RAFT_FOLLOWER, "states");
_Static_assert((int)SIDER_RAFT_STATE_CANDIDATE == (int)RAFT_CANDIDATE, "states");
_Static_assert((int)SIDER_RAFT_ROLE_VOTER == (int)RAFT_VOTER, "roles");
_Static_assert((int)SIDER_RAFT_ROLE_STANDBY == (int)RAFT_STANDBY, "roles");
_Static_assert((int)SIDER_RAFT_ROLE_SPARE == (int)RAFT_SPARE, "roles");

#define CONTAINER_OF(ptr, type, member) \
  ((type *)((char *)(ptr) - offsetof(type, member)))

/* ------------------------------------------------------------------------
 * TCP_NODELAY transport: a raft_uv_transport that forwards to libraft's TCP
 * transport (`inner`) and sets TCP_NODELAY on each stream it hands over. */

struct nodelay_transport {
  struct raft_uv_transport outer; /* Given to raft_uv_init(). */
  struct raft_uv_transport inner; /* raft_uv_tcp. */
  raft_uv_accept_cb accept_cb;
  raft_uv_transport_close_cb close_cb;
  uint64_t nodelay_sockets;
  uint64_t nodelay_failures;
  /* Told of every failed connection attempt, with the server's id. */
  void (*connect_failed)(void *arg, raft_id id);
  void *connect_failed_arg;
};

struct nodelay_connect {
  struct raft_uv_connect req; /* Passed to the inner transport. */
  struct raft_uv_connect *orig;
  raft_uv_connect_cb cb;
  struct nodelay_transport *t;
  raft_id id;
};

static void nodelaySet(struct nodelay_transport *t, struct uv_stream_s *stream)
{
  uv_os_fd_t fd;
  int on = 0;
  socklen_t len = sizeof on;
  if (stream == NULL || stream->type != UV_TCP ||
      uv_tcp_nodelay((uv_tcp_t *)stream, 1) != 0 ||
      uv_fileno((uv_handle_t *)stream, &fd) != 0 ||
      getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) != 0 || on == 0) {
    t->nodelay_failures++;
    return;
  }
  t->nodelay_sockets++;
}

static int nodelayInit(struct raft_uv_transport *outer, raft_id id,
                       const char *address)
{
  struct nodelay_transport *t = outer->impl;
  int rv = t->inner.init(&t->inner, id, address);
  if (rv != 0) {
    memcpy(outer->errmsg, t->inner.errmsg, sizeof outer->errmsg);
  }
  return rv;
}

static void nodelayAcceptCb(struct raft_uv_transport *inner, raft_id id,
                            const char *address, struct uv_stream_s *stream)
{
  struct nodelay_transport *t =
      CONTAINER_OF(inner, struct nodelay_transport, inner);
  nodelaySet(t, stream);
  t->accept_cb(&t->outer, id, address, stream);
}

static int nodelayListen(struct raft_uv_transport *outer, raft_uv_accept_cb cb)
{
  struct nodelay_transport *t = outer->impl;
  int rv;
  t->accept_cb = cb;
  rv = t->inner.listen(&t->inner, nodelayAcceptCb);
  if (rv != 0) {
    memcpy(outer->errmsg, t->inner.errmsg, sizeof outer->errmsg);
  }
  return rv;
}

static void nodelayConnectCb(struct raft_uv_connect *req,
                             struct uv_stream_s *stream, int status)
{
  struct nodelay_connect *c = req->data;
  struct raft_uv_connect *orig = c->orig;
  raft_uv_connect_cb cb = c->cb;
  struct nodelay_transport *t = c->t;
  const raft_id id = c->id;
  if (status == 0) {
    nodelaySet(t, stream);
  }
  raft_free(c);
  cb(orig, stream, status);
  if (status != 0 && t->connect_failed != NULL) {
    t->connect_failed(t->connect_failed_arg, id);
  }
}

static int nodelayConnect(struct raft_uv_transport *outer,
                          struct raft_uv_connect *req, raft_id id,
                          const char *address, raft_uv_connect_cb cb)
{
  struct nodelay_transport *t = outer->impl;
  struct nodelay_connect *c = raft_malloc(sizeof *c);
  int rv;
  if (c == NULL) {
    return RAFT_NOMEM;
  }
  c->req.data = c;
  c->orig = req;
  c->cb = cb;
  c->t = t;
  c->id = id;
  req->cb = cb;
  rv = t->inner.connect(&t->inner, &c->req, id, address, nodelayConnectCb);
  if (rv != 0) {
    memcpy(outer->errmsg, t->inner.errmsg, sizeof outer->errmsg);
    raft_free(c);
  }
  return rv;
}

static void nodelayCloseCb(struct raft_uv_transport *inner)
{
  struct nodelay_transport *t =
      CONTAINER_OF(inner, struct nodelay_transport, inner);
  if (t->close_cb != NULL) {
    t->close_cb(&t->outer);
  }
}

static void nodelayClose(struct raft_uv_transport *outer,
                         raft_uv_transport_close_cb cb)
{
  struct nodelay_transport *t = outer->impl;
  t->close_cb = cb;
  t->inner.close(&t->inner, nodelayCloseCb);
}

static int nodelayTransportInit(struct nodelay_transport *t, uv_loop_t *loop)
{
  int rv;
  t->inner.version = 1; /* The caller fills in the struct version. */
  rv = raft_uv_tcp_init(&t->inner, loop);
  if (rv != 0) {
    return rv;
  }
  t->outer.version = 1;
  t->outer.impl = t;
  t->outer.init = nodelayInit;
  t->outer.listen = nodelayListen;
  t->outer.connect = nodelayConnect;
  t->outer.close = nodelayClose;
  return 0;
}

/* ------------------------------------------------------------------------
 * The handle. */

struct sider_raft {
  struct nodelay_transport transport;
  struct raft_io io;
  struct raft_fsm fsm;
  struct raft raft;
  sider_raft_fsm_ops ops;
  sider_raft_closed_cb closed_cb;
  void *closed_arg;
  bool closing;
  /* Leader loss (see raft_shim.h): libraft's tick, captured by ioStart. */
  int (*uv_start)(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
                  raft_io_recv_cb recv);
  raft_io_tick_cb tick;
  uv_timer_t nudge;
  unsigned stagger_ms;
  raft_id lost_leader;  /* 0: no leader loss being handled. */
  raft_term lost_term;
  raft_time nudge_until;
  uint64_t nudges;
  /* The leader probe: a TCP connect to a silent leader's address. */
  uv_timer_t probe_timer;
  uv_tcp_t probe_tcp;
  uv_connect_t probe_req;
  bool probe_busy; /* probe_tcp is open (connecting or closing). */
  raft_id probe_leader; /* The leader probed last, at `probe_at`. */
  raft_time probe_at;
  struct bgSnapshot snap; /* raft_shim_snapshot.c */
};

/* Entry framing (persisted; never change it): libraft's disk format needs
 * every entry's length to be a multiple of 8, so a command is stored as
 * [8-byte little-endian command length][command][zero padding to 8]. */
#define FRAME_HEADER 8

static size_t frameSize(size_t len)
{
  return FRAME_HEADER + ((len + 7) & ~(size_t)7);
}

static void frameEncode(void *out, const void *data, size_t len)
{
  unsigned char *p = out;
  uint64_t n = len;
  int i;
  for (i = 0; i < 8; i++) {
    p[i] = (unsigned char)(n >> (8 * i));
  }
  memcpy(p + FRAME_HEADER, data, len);
  memset(p + FRAME_HEADER + len, 0, frameSize(len) - FRAME_HEADER - len);
}

/* Returns false if `buf` is not a frame. */
static bool frameDecode(const struct raft_buffer *buf, const void **data,
                        size_t *len)
{
  const unsigned char *p = buf->base;
  uint64_t n = 0;
  int i;
  if (buf->len < FRAME_HEADER) {
    return false;
  }
  for (i = 0; i < 8; i++) {
    n |= (uint64_t)p[i] << (8 * i);
  }
  if (n > buf->len - FRAME_HEADER) {
    return false;
  }
  *data = p + FRAME_HEADER;
  *len = (size_t)n;
  return true;
}

/* libraft applies committed entries in log order and bumps last_applied
 * right after each (barrier and configuration entries included), so the
 * command being applied is at last_applied + 1. */
static int fsmApply(struct raft_fsm *fsm, const struct raft_buffer *buf,
                    void **result)
{
  sider_raft *h = fsm->data;
  const raft_index index = raft_last_applied(&h->raft) + 1;
  const void *data;
  size_t len;
  *result = NULL;
  if (!frameDecode(buf, &data, &len)) {
    /* A corrupt log must never be skipped silently. */
    fprintf(stderr, "consensus: log entry %llu is not a command frame\n",
            index);
    abort();
  }
  return snapApply(&h->snap, index, data, len);
}

/* Version-1 FSM: libraft frees both the bufs array and each base. With
 * ops.snapshot_encode the snapshot module encodes off the loop thread;
 * without it, ops.snapshot runs here. */
static int fsmSnapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                       unsigned *n_bufs)
{
  sider_raft *h = fsm->data;
  void *data = NULL;
  size_t len = 0;
  int rv;
  if (h->ops.snapshot_encode != NULL) {
    return snapTake(&h->snap, bufs, n_bufs);
  }
  *bufs = raft_malloc(sizeof **bufs);
  if (*bufs == NULL) {
    return RAFT_NOMEM;
  }
  rv = h->ops.snapshot(h->ops.ctx, &data, &len);
  if (rv != 0) {
    raft_free(*bufs);
    *bufs = NULL;
    return rv;
  }
  (*bufs)[0].base = data;
  (*bufs)[0].len = len;
  *n_bufs = 1;
  return 0;
}

/* On success the FSM owns buf->base (libraft's contract); on failure libraft
 * still does. */
static int fsmRestore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
  sider_raft *h = fsm->data;
  return snapRestore(&h->snap, buf);
}

/* ------------------------------------------------------------------------
 * Leader loss: expire the election timer early when the leader is gone. */

static int ioStart(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
                   raft_io_recv_cb recv)
{
  sider_raft *h = CONTAINER_OF(io, sider_raft, io);
  h->tick = tick;
  return h->uv_start(io, msecs, tick, recv);
}

static bool selfIsVoter(const struct raft *r)
{
  unsigned i;
  for (i = 0; i < r->configuration.n; i++) {
    const struct raft_server *s = &r->configuration.servers[i];
    if (s->id == r->id) {
      return s->role == RAFT_VOTER;
    }
  }
  return false;
}

/* This server's place, by id, among the voters other than `lost`. */
static unsigned voterRank(const struct raft *r, raft_id lost)
{
  unsigned i, rank = 0;
  for (i = 0; i < r->configuration.n; i++) {
    const struct raft_server *s = &r->configuration.servers[i];
    if (s->role == RAFT_VOTER && s->id != lost && s->id < r->id) {
      rank++;
    }
  }
  return rank;
}

static void nudgeCb(uv_timer_t *timer)
{
  sider_raft *h = timer->data;
  struct raft *r = &h->raft;
  const raft_time now = h->io.time(&h->io);
  raft_id leader_id = 0;
  const char *leader_address = NULL;
  unsigned *timeout = NULL;
  if (h->closing || h->lost_leader == 0 || h->tick == NULL) {
    return;
  }
  raft_leader(r, &leader_id, &leader_address);
  if (now > h->nudge_until ||
      (leader_id != 0 && leader_id != h->lost_leader)) {
    h->lost_leader = 0; /* Over: a new leader, or the timers take over. */
    return;
  }
  if (r->state == RAFT_FOLLOWER) {
    /* libraft keeps a follower that is still persisting entries a follower
     * (and re-arms its timer): wait for the disk instead. */
    if (r->last_stored < raft_last_index(r)) {
      uv_timer_start(&h->nudge, nudgeCb, 3, 0);
      return;
    }
    timeout = &r->follower_state.randomized_election_timeout;
  } else if (r->state == RAFT_CANDIDATE && r->candidate_state.in_pre_vote) {
    timeout = &r->candidate_state.randomized_election_timeout;
  }
  if (timeout != NULL && now > *timeout) {
    r->election_timer_start = now - *timeout - 1;
    h->nudges++;
    h->tick(&h->io); /* As libraft's own tick timer would. */
  }
  if (r->state != RAFT_LEADER &&
      !(r->state == RAFT_CANDIDATE && !r->candidate_state.in_pre_vote)) {
    uv_timer_start(&h->nudge, nudgeCb, 2 * h->stagger_ms, 0);
  }
}

/* Server `id` refused a connection: its process is gone. */
static void connectFailed(void *arg, raft_id id)
{
  sider_raft *h = arg;
  struct raft *r = &h->raft;
  raft_id leader_id = 0;
  const char *leader_address = NULL;
  unsigned delay_ms;
  if (h->closing || h->stagger_ms == 0 || r->state != RAFT_FOLLOWER) {
    return;
  }
  raft_leader(r, &leader_id, &leader_address);
  if (leader_id != id || !selfIsVoter(r) ||
      (h->lost_leader == id && h->lost_term == raft_current_term(r))) {
    return; /* Not the leader, cannot be elected, or already handled. */
  }
  h->lost_leader = id;
  h->lost_term = raft_current_term(r);
  delay_ms = voterRank(r, id) * h->stagger_ms;
  h->nudge_until = h->io.time(&h->io) + r->election_timeout / 2 + delay_ms;
  uv_timer_start(&h->nudge, nudgeCb, delay_ms, 0);
}

static void probeClosedCb(uv_handle_t *handle)
{
  sider_raft *h = handle->data;
  h->probe_busy = false;
}

static void probeConnectCb(uv_connect_t *req, int status)
{
  sider_raft *h = req->data;
  if (status == UV_ECONNREFUSED && !h->closing) {
    connectFailed(h, h->probe_leader);
  }
  if (!uv_is_closing((uv_handle_t *)&h->probe_tcp)) {
    uv_close((uv_handle_t *)&h->probe_tcp, probeClosedCb);
  }
}

/* Parses "a.b.c.d:port" or "[v6]:port". */
static int probeAddress(const char *address, struct sockaddr_storage *out)
{
  char host[64];
  const char *colon = strrchr(address, ':');
  size_t n;
  int port;
  if (colon == NULL || (n = (size_t)(colon - address)) == 0 ||
      n >= sizeof host) {
    return -1;
  }
  port = atoi(colon + 1);
  if (address[0] == '[' && address[n - 1] == ']') {
    memcpy(host, address + 1, n - 2);
    host[n - 2] = '\0';
    return uv_ip6_addr(host, port, (struct sockaddr_in6 *)out);
  }
  memcpy(host, address, n);
  host[n] = '\0';
  return uv_ip4_addr(host, port, (struct sockaddr_in *)out);
}

/* Every heartbeat interval: a voting follower that has not heard from its
 * leader for two of them connects to the leader's address, again every two
 * intervals while the silence lasts (a killed process on a loaded machine
 * may keep its listener for a moment). A refusal means the leader's process
 * is gone (connectFailed); anything else (accepted, or no answer) leaves it
 * to the election timer. */
static void probeTimerCb(uv_timer_t *timer)
{
  sider_raft *h = timer->data;
  struct raft *r = &h->raft;
  raft_id leader_id = 0;
  const char *leader_address = NULL;
  struct sockaddr_storage addr;
  const raft_time now = h->io.time(&h->io);
  if (h->closing || h->probe_busy || r->state != RAFT_FOLLOWER ||
      now < r->election_timer_start + 2 * r->heartbeat_timeout) {
    return;
  }
  raft_leader(r, &leader_id, &leader_address);
  if (leader_id == 0 || leader_address == NULL || h->lost_leader != 0 ||
      now < h->probe_at + 2 * r->heartbeat_timeout ||
      !selfIsVoter(r) || probeAddress(leader_address, &addr) != 0) {
    return;
  }
  h->probe_leader = leader_id;
  h->probe_at = now;
  if (uv_tcp_init(timer->loop, &h->probe_tcp) != 0) {
    return;
  }
  h->probe_tcp.data = h;
  h->probe_busy = true;
  h->probe_req.data = h;
  if (uv_tcp_connect(&h->probe_req, &h->probe_tcp,
                     (const struct sockaddr *)&addr, probeConnectCb) != 0) {
    uv_close((uv_handle_t *)&h->probe_tcp, probeClosedCb);
  }
}

int sider_raft_create(uv_loop_t *loop, const sider_raft_options *opts,
                      const sider_raft_fsm_ops *ops, sider_raft **out,
                      char *errmsg, size_t errmsg_len)
{
  sider_raft *h = calloc(1, sizeof *h);
  int rv;
  if (h == NULL) {
    snprintf(errmsg, errmsg_len, "out of memory");
    return RAFT_NOMEM;
  }
  h->ops = *ops;
  rv = nodelayTransportInit(&h->transport, loop);
  if (rv != 0) {
    snprintf(errmsg, errmsg_len, "tcp transport: %s", raft_strerror(rv));
    free(h);
    return rv;
  }
  h->io.version = 2; /* The caller fills in the struct version. */
  rv = raft_uv_init(&h->io, loop, opts->dir, &h->transport.outer);
  if (rv != 0) {
    snprintf(errmsg, errmsg_len, "raft io in %s: %s", opts->dir,
             raft_strerror(rv));
    raft_uv_tcp_close(&h->transport.inner);
    free(h);
    return rv;
  }
  h->fsm.version = 1;
  h->fsm.data = h;
  h->fsm.apply = fsmApply;
  h->fsm.snapshot = fsmSnapshot;
  h->fsm.restore = fsmRestore;
  rv = raft_init(&h->raft, &h->io, &h->fsm, opts->id, opts->address);
  if (rv != 0) {
    snprintf(errmsg, errmsg_len, "raft init: %s", h->raft.errmsg);
    raft_uv_close(&h->io);
    raft_uv_tcp_close(&h->transport.inner);
    free(h);
    return rv;
  }
  h->raft.data = h;
  raft_set_election_timeout(&h->raft, opts->election_timeout_ms);
  raft_set_heartbeat_timeout(&h->raft, opts->heartbeat_timeout_ms);
  raft_set_pre_vote(&h->raft, opts->pre_vote);
  raft_set_snapshot_threshold(&h->raft, opts->snapshot_threshold);
  raft_set_snapshot_trailing(&h->raft, opts->snapshot_trailing);
  if (opts->connect_retry_ms != 0) {
    raft_uv_set_connect_retry_delay(&h->io, opts->connect_retry_ms);
  }
  h->stagger_ms = opts->leader_loss_stagger_ms;
  h->uv_start = h->io.start;
  h->io.start = ioStart;
  uv_timer_init(loop, &h->nudge);
  h->nudge.data = h;
  uv_timer_init(loop, &h->probe_timer);
  h->probe_timer.data = h;
  h->transport.connect_failed = connectFailed;
  h->transport.connect_failed_arg = h;
  snapInit(&h->snap, loop, &h->raft, &h->ops);
  *out = h;
  return 0;
}

int sider_raft_bootstrap(sider_raft *h, const sider_raft_server *servers,
                         size_t n)
{
  struct raft_configuration conf;
  size_t i;
  int rv = 0;
  raft_configuration_init(&conf);
  for (i = 0; i < n && rv == 0; i++) {
    rv = raft_configuration_add(&conf, servers[i].id, servers[i].address,
                                servers[i].role);
  }
  if (rv == 0) {
    rv = raft_bootstrap(&h->raft, &conf);
  }
  raft_configuration_close(&conf);
  return rv;
}

int sider_raft_start(sider_raft *h)
{
  int rv = raft_start(&h->raft);
  snapResetGap(&h->snap); /* Loading is not a stall. */
  if (rv == 0 && h->stagger_ms != 0) {
    uv_timer_start(&h->probe_timer, probeTimerCb, h->raft.heartbeat_timeout,
                   h->raft.heartbeat_timeout);
  }
  return rv;
}

struct shimApply {
  struct raft_apply req;
  sider_raft_apply_cb cb;
  void *arg;
  sider_raft *h;
  struct heldCompletion held;
};

static void applyFire(struct heldCompletion *held)
{
  struct shimApply *a = CONTAINER_OF(held, struct shimApply, held);
  a->cb(a->arg, a->req.index, 0);
  raft_free(a);
}

/* A success waits until the FSM has really applied the entry (see
 * "Snapshots" in raft_shim.h); a failure is reported at once. */
static void applyCb(struct raft_apply *req, int status, void *result)
{
  struct shimApply *a = req->data;
  (void)result;
  if (status == 0) {
    a->held.index = req->index;
    a->held.fire = applyFire;
    if (snapHoldCompletion(&a->h->snap, &a->held)) {
      return;
    }
  }
  a->cb(a->arg, req->index, status);
  raft_free(a);
}

int sider_raft_apply(sider_raft *h, const void *data, size_t len,
                     sider_raft_apply_cb cb, void *arg, uint64_t *index)
{
  struct raft_buffer buf;
  struct shimApply *a;
  int rv;
  if (len == 0) {
    return RAFT_MALFORMED;
  }
  a = raft_malloc(sizeof *a);
  buf.len = frameSize(len);
  buf.base = raft_malloc(buf.len);
  if (a == NULL || buf.base == NULL) {
    raft_free(a);
    raft_free(buf.base);
    return RAFT_NOMEM;
  }
  frameEncode(buf.base, data, len);
  memset(&a->req, 0, sizeof a->req);
  a->req.data = a;
  a->cb = cb;
  a->arg = arg;
  a->h = h;
  rv = raft_apply(&h->raft, &a->req, &buf, 1, applyCb);
  if (rv != 0) {
    /* NOTLEADER and NOSPACE are refused before libraft takes the buffer.
     * For anything else ownership is unclear, so leak rather than risk a
     * double free (these are out-of-memory paths). */
    if (rv == RAFT_NOTLEADER || rv == RAFT_NOSPACE) {
      raft_free(buf.base);
    }
    raft_free(a);
    return rv;
  }
  *index = a->req.index;
  return 0;
}

struct shimBarrier {
  struct raft_barrier req;
  sider_raft_done_cb cb;
  void *arg;
  sider_raft *h;
  struct heldCompletion held;
};

static void barrierFire(struct heldCompletion *held)
{
  struct shimBarrier *b = CONTAINER_OF(held, struct shimBarrier, held);
  b->cb(b->arg, 0);
  raft_free(b);
}

/* As applyCb: a barrier means "everything before me is applied". */
static void barrierCb(struct raft_barrier *req, int status)
{
  struct shimBarrier *b = req->data;
  if (status == 0) {
    b->held.index = req->index;
    b->held.fire = barrierFire;
    if (snapHoldCompletion(&b->h->snap, &b->held)) {
      return;
    }
  }
  b->cb(b->arg, status);
  raft_free(b);
}

int sider_raft_barrier(sider_raft *h, sider_raft_done_cb cb, void *arg)
{
  struct shimBarrier *b = raft_malloc(sizeof *b);
  int rv;
  if (b == NULL) {
    return RAFT_NOMEM;
  }
  memset(&b->req, 0, sizeof b->req);
  b->req.data = b;
  b->cb = cb;
  b->arg = arg;
  b->h = h;
  rv = raft_barrier(&h->raft, &b->req, barrierCb);
  if (rv != 0) {
    raft_free(b);
  }
  return rv;
}

struct shimChange {
  struct raft_change req;
  sider_raft_done_cb cb;
  void *arg;
};

static void changeCb(struct raft_change *req, int status)
{
  struct shimChange *c = req->data;
  c->cb(c->arg, status);
  raft_free(c);
}

static struct shimChange *changeNew(sider_raft_done_cb cb, void *arg)
{
  struct shimChange *c = raft_malloc(sizeof *c);
  if (c != NULL) {
    memset(&c->req, 0, sizeof c->req);
    c->req.data = c;
    c->cb = cb;
    c->arg = arg;
  }
  return c;
}

/* libraft's membership calls assume a leader without a pending change; check
 * both here so a follower's call is an error and not an assertion. */
static int changeAllowed(sider_raft *h)
{
  if (raft_state(&h->raft) != RAFT_LEADER || raft_transferee(&h->raft) != 0) {
    return RAFT_NOTLEADER;
  }
  if (h->raft.legacy.change != NULL ||
      h->raft.configuration_uncommitted_index != 0) {
    return RAFT_CANTCHANGE;
  }
  return 0;
}

int sider_raft_add(sider_raft *h, uint64_t id, const char *address,
                   sider_raft_done_cb cb, void *arg)
{
  struct shimChange *c;
  int rv = changeAllowed(h);
  if (rv != 0) {
    return rv;
  }
  if ((c = changeNew(cb, arg)) == NULL) {
    return RAFT_NOMEM;
  }
  rv = raft_add(&h->raft, &c->req, id, address, changeCb);
  if (rv != 0) {
    raft_free(c);
  }
  return rv;
}

int sider_raft_assign(sider_raft *h, uint64_t id, int role,
                      sider_raft_done_cb cb, void *arg)
{
  struct shimChange *c;
  int rv = changeAllowed(h);
  if (rv != 0) {
    return rv;
  }
  if ((c = changeNew(cb, arg)) == NULL) {
    return RAFT_NOMEM;
  }
  rv = raft_assign(&h->raft, &c->req, id, role, changeCb);
  if (rv != 0) {
    /* raft_assign may have registered the request before failing. */
    if (h->raft.legacy.change == &c->req) {
      h->raft.legacy.change = NULL;
    }
    raft_free(c);
  }
  return rv;
}

int sider_raft_remove(sider_raft *h, uint64_t id, sider_raft_done_cb cb,
                      void *arg)
{
  struct shimChange *c;
  int rv = changeAllowed(h);
  if (rv != 0) {
    return rv;
  }
  if ((c = changeNew(cb, arg)) == NULL) {
    return RAFT_NOMEM;
  }
  rv = raft_remove(&h->raft, &c->req, id, changeCb);
  if (rv != 0) {
    raft_free(c);
  }
  return rv;
}

struct shimTransfer {
  struct raft_transfer req;
  sider_raft_done_cb cb;
  void *arg;
};

static void transferCb(struct raft_transfer *req)
{
  struct shimTransfer *t = req->data;
  t->cb(t->arg, 0);
  raft_free(t);
}

int sider_raft_transfer(sider_raft *h, uint64_t id, sider_raft_done_cb cb,
                        void *arg)
{
  struct shimTransfer *t;
  int rv;
  if (raft_state(&h->raft) != RAFT_LEADER || raft_transferee(&h->raft) != 0) {
    return RAFT_NOTLEADER;
  }
  t = raft_malloc(sizeof *t);
  if (t == NULL) {
    return RAFT_NOMEM;
  }
  memset(&t->req, 0, sizeof t->req);
  t->req.data = t;
  t->cb = cb;
  t->arg = arg;
  rv = raft_transfer(&h->raft, &t->req, id, transferCb);
  if (rv != 0) {
    raft_free(t);
  }
  return rv;
}

void sider_raft_get_status(sider_raft *h, sider_raft_status *out)
{
  struct raft *r = &h->raft;
  raft_id leader_id = 0;
  const char *leader_address = NULL;
  memset(out, 0, sizeof *out);
  out->state = raft_state(r);
  out->term = raft_current_term(r);
  out->commit_index = raft_commit_index(r);
  out->last_applied = snapFsmApplied(&h->snap);
  out->last_index = raft_last_index(r);
  raft_leader(r, &leader_id, &leader_address);
  out->leader_id = leader_id;
  out->leader_address = leader_id != 0 ? leader_address : NULL;
  if (out->state == RAFT_FOLLOWER) {
    raft_time now = h->io.time(&h->io);
    out->ms_since_leader_contact =
        now > r->election_timer_start ? now - r->election_timer_start : 0;
  }
  out->configuration_committed_index = r->configuration_committed_index;
  out->configuration_uncommitted_index = r->configuration_uncommitted_index;
}

void sider_raft_get_stats(sider_raft *h, sider_raft_stats *out)
{
  out->nodelay_sockets = h->transport.nodelay_sockets;
  out->nodelay_failures = h->transport.nodelay_failures;
  out->leader_loss_nudges = h->nudges;
}

void sider_raft_configuration(sider_raft *h, sider_raft_server_fn fn,
                              void *arg)
{
  unsigned i;
  for (i = 0; i < h->raft.configuration.n; i++) {
    const struct raft_server *s = &h->raft.configuration.servers[i];
    fn(arg, s->id, s->address, s->role);
  }
}

static void snapClosedCb(void *arg)
{
  sider_raft *h = arg;
  if (h->closed_cb != NULL) {
    h->closed_cb(h->closed_arg);
  }
}

/* libraft has failed what it will not complete; the snapshot module then
 * applies and reports what it held back before the handle counts as
 * closed. */
static void closeCb(struct raft *r)
{
  sider_raft *h = r->data;
  snapClose(&h->snap, snapClosedCb, h);
}

void sider_raft_close(sider_raft *h, sider_raft_closed_cb cb, void *arg)
{
  h->closed_cb = cb;
  h->closed_arg = arg;
  h->closing = true;
  uv_timer_stop(&h->nudge);
  uv_close((uv_handle_t *)&h->nudge, NULL);
  uv_timer_stop(&h->probe_timer);
  uv_close((uv_handle_t *)&h->probe_timer, NULL);
  if (h->probe_busy && !uv_is_closing((uv_handle_t *)&h->probe_tcp)) {
    uv_close((uv_handle_t *)&h->probe_tcp, probeClosedCb);
  }
  snapBeginClose(&h->snap);
  raft_close(&h->raft, closeCb);
}

void sider_raft_destroy(sider_raft *h)
{
  if (h == NULL) {
    return;
  }
  raft_uv_close(&h->io);
  raft_uv_tcp_close(&h->transport.inner);
  snapDestroy(&h->snap);
  free(h);
}

void *sider_raft_malloc(size_t size)
{
  return raft_malloc(size);
}

const char *sider_raft_strerror(int code)
{
  return raft_strerror(code);
}

const char *sider_raft_errmsg(sider_raft *h)
{
  return raft_errmsg(&h->raft);
}
