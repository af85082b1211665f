/* raft_shim: the only C files that include <raft.h> (raft_shim.c and its
 * snapshot module raft_shim_snapshot.c).
 *
 * libraft 0.22's header is not valid C++ (its ABI-compatibility static
 * asserts declare types inside sizeof), so every libraft and raft/uv call
 * lives in raft_shim.c behind this plain C interface: an opaque handle, a few
 * functions and callbacks that carry a void* argument.
 *
 * Threading: everything here runs on the thread that runs the uv loop given
 * to sider_raft_create(); no function is thread-safe. Callbacks (FSM ops and
 * request completions) are invoked on that thread, never from inside the
 * call that submitted the request, except ops.snapshot_encode (a libuv pool
 * thread; see "Snapshots").
 *
 * Ownership: the handle owns libraft, its raft_io (log and snapshots on disk)
 * and its TCP transport. The caller owns the uv loop. After a successful
 * sider_raft_create() the handle must be shut down with sider_raft_close(),
 * the loop run until the close callback fires, and then released with
 * sider_raft_destroy().
 *
 * Errors: functions return 0 or a SIDER_RAFT_* code (libraft's numbering);
 * sider_raft_strerror() and sider_raft_errmsg() describe them.
 *
 * Snapshots: libraft 0.22 calls the FSM's snapshot hooks (snapshot and
 * snapshot_async alike) on the loop thread and writes the result at once,
 * and keeps applying committed entries while it writes. With
 * ops.snapshot_encode set, the shim instead encodes on a libuv pool thread:
 * libraft's first request is declined (it asks again on its next event);
 * while the worker encodes, committed commands are held (copied, not
 * applied) together with the completions of raft_apply/raft_barrier
 * requests at or after them; then the held commands are applied a slice at
 * a time and the completions fire in order. libraft's next request gets an
 * envelope: the encoding plus every command since the encoded index, which
 * a restore re-applies. sider_raft_get_status()'s last_applied is what the
 * FSM has really applied. A restore, or close, while the worker runs waits
 * for it. The format is in raft_shim.c.
 *
 * TCP: libraft never sets TCP_NODELAY, which caps replication at about one
 * round of Nagle's delay per batch. The shim wraps libraft's TCP transport
 * and sets TCP_NODELAY on every connection it makes or accepts, then reads
 * it back with getsockopt() and counts the result (sider_raft_stats).
 *
 * Leader loss: libraft's followers keep their leader until their own
 * randomized election timer (election timeout x [1, 2)) runs out, and refuse
 * every vote until then, so an election after the leader dies waits for the
 * slower follower's timer. When the leader's process dies its listener goes
 * with it, and connections to it are refused. With leader_loss_stagger_ms
 * set, a voting follower that has not heard from its leader for two
 * heartbeat intervals connects to the leader's address (and again while the
 * silence lasts). When that, or the transport's own reconnection, is
 * refused, the follower expires its own election timer after rank x stagger
 * (rank: its place, by id, among the other voters), and again every
 * 2 x stagger while it is still a pre-vote candidate without a leader, for
 * at most half an election timeout. Raft's safety does not depend on
 * timers; a false alarm costs one refused pre-vote. A leader whose machine
 * is gone (no refusal) is still found by the election timer. */
#ifndef SIDER_CONSENSUS_RAFT_SHIM_H_
#define SIDER_CONSENSUS_RAFT_SHIM_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libraft's error codes that callers act on (checked against raft.h). */
enum {
  SIDER_RAFT_NOMEM = 1,
  SIDER_RAFT_BADID = 2,
  SIDER_RAFT_NOTLEADER = 7,
  SIDER_RAFT_LEADERSHIPLOST = 8,
  SIDER_RAFT_SHUTDOWN = 9,
  SIDER_RAFT_CANTBOOTSTRAP = 10,
  SIDER_RAFT_CANTCHANGE = 11,
  SIDER_RAFT_CORRUPT = 12,
  SIDER_RAFT_CANCELED = 13,
  SIDER_RAFT_TOOBIG = 15,
  SIDER_RAFT_NOCONNECTION = 16,
  SIDER_RAFT_BUSY = 17,
  SIDER_RAFT_NOTFOUND = 19,
  SIDER_RAFT_NOSPACE = 22,
};

/* raft_state() values. */
enum {
  SIDER_RAFT_STATE_UNAVAILABLE = 0,
  SIDER_RAFT_STATE_FOLLOWER = 1,
  SIDER_RAFT_STATE_CANDIDATE = 2,
  SIDER_RAFT_STATE_LEADER = 3,
};

/* Server roles in a configuration. */
enum {
  SIDER_RAFT_ROLE_STANDBY = 0,
  SIDER_RAFT_ROLE_VOTER = 1,
  SIDER_RAFT_ROLE_SPARE = 2,
};

typedef struct sider_raft sider_raft;

typedef struct sider_raft_options {
  uint64_t id;
  const char *address; /* host:port; the transport listens here. */
  const char *dir;     /* Must exist. */
  unsigned election_timeout_ms;
  unsigned heartbeat_timeout_ms;
  unsigned snapshot_threshold;
  unsigned snapshot_trailing;
  bool pre_vote;
  /* Delay between attempts to (re)connect to a peer; 0 keeps libraft's
   * default (1000 ms). */
  unsigned connect_retry_ms;
  /* See "Leader loss" above; 0 turns it off. */
  unsigned leader_loss_stagger_ms;
} sider_raft_options;

typedef struct sider_raft_server {
  uint64_t id;
  const char *address;
  int role; /* SIDER_RAFT_ROLE_* */
} sider_raft_server;

/* What the shim reports each time it hands libraft a snapshot built in the
 * background (see "Snapshots" below). */
typedef struct sider_raft_snapshot_info {
  uint64_t index;          /* The snapshot's log index (libraft's). */
  uint64_t base_index;     /* Index of the state the worker encoded. */
  uint64_t tail_entries;   /* Commands in (base_index, index], replayed on
                            * restore. */
  uint64_t bytes;          /* Whole snapshot. */
  uint64_t encode_us;      /* Worker thread time in snapshot_encode. */
  uint64_t handover_us;    /* Loop thread time to build the snapshot. */
  uint64_t max_loop_gap_ms; /* Longest gap between two runs of a 10 ms loop
                             * timer since the encode started. */
} sider_raft_snapshot_info;

/* The state machine, as seen by libraft. Each op returns 0 or nonzero to make
 * libraft fail the operation. Every op runs on the loop thread except
 * snapshot_encode. */
typedef struct sider_raft_fsm_ops {
  void *ctx;
  /* A committed command at log position `index`, in log order. */
  int (*apply)(void *ctx, uint64_t index, const void *data, size_t len);
  /* The whole state. `*data` must come from sider_raft_malloc(); libraft
   * takes ownership of it on success. Used only if snapshot_encode is NULL. */
  int (*snapshot)(void *ctx, void **data, size_t *len);
  /* Replace the whole state. The bytes stay owned by the shim. */
  int (*restore)(void *ctx, const void *data, size_t len);
  /* Optional. As `snapshot`, but called on a libuv pool thread while the
   * loop thread neither applies nor restores (readers may run). */
  int (*snapshot_encode)(void *ctx, void **data, size_t *len);
  /* Optional; loop thread. */
  void (*snapshot_taken)(void *ctx, const sider_raft_snapshot_info *info);
} sider_raft_fsm_ops;

typedef struct sider_raft_status {
  int state; /* SIDER_RAFT_STATE_* */
  uint64_t term;
  uint64_t commit_index;
  uint64_t last_applied;
  uint64_t last_index;
  uint64_t leader_id;         /* 0 if none known. */
  const char *leader_address; /* Valid until the next libraft call; NULL if none. */
  /* Follower: ms since the election timer was last reset (by contact from
   * the leader or a granted vote); 0 otherwise. */
  uint64_t ms_since_leader_contact;
  /* Change counters for the configuration (see sider_raft_configuration). */
  uint64_t configuration_committed_index;
  uint64_t configuration_uncommitted_index;
} sider_raft_status;

typedef struct sider_raft_stats {
  uint64_t nodelay_sockets; /* Connections where TCP_NODELAY reads back 1. */
  uint64_t nodelay_failures;
  /* Times a refused connection to the leader made this node start an
   * election early (see "Leader loss"). */
  uint64_t leader_loss_nudges;
} sider_raft_stats;

typedef void (*sider_raft_apply_cb)(void *arg, uint64_t index, int status);
typedef void (*sider_raft_done_cb)(void *arg, int status);
typedef void (*sider_raft_closed_cb)(void *arg);
typedef void (*sider_raft_server_fn)(void *arg, uint64_t id,
                                     const char *address, int role);

/* Initializes libraft on `loop` (raft_uv_tcp transport wrapped to set
 * TCP_NODELAY, raft_uv log in opts->dir). On failure writes a message into
 * errmsg and leaves nothing to close. */
int sider_raft_create(uv_loop_t *loop, const sider_raft_options *opts,
                      const sider_raft_fsm_ops *ops, sider_raft **out,
                      char *errmsg, size_t errmsg_len);

/* Writes the initial configuration if the data directory has no state;
 * SIDER_RAFT_CANTBOOTSTRAP if it has. Before sider_raft_start() only. */
int sider_raft_bootstrap(sider_raft *h, const sider_raft_server *servers,
                         size_t n);

/* Loads the log and snapshot (applying them to the FSM) and starts the
 * transport and timers. */
int sider_raft_start(sider_raft *h);

/* Appends one command (copied, framed with its length and padded to a
 * multiple of 8 bytes as libraft's log requires; the FSM's apply op sees the
 * original bytes) to the log. `len` must be > 0. On success `*index` is its
 * log index and `cb` fires exactly once. On failure `cb` never fires. */
int sider_raft_apply(sider_raft *h, const void *data, size_t len,
                     sider_raft_apply_cb cb, void *arg, uint64_t *index);

/* Appends a barrier entry; `cb` fires once it (and so everything before it)
 * is applied, or with an error. */
int sider_raft_barrier(sider_raft *h, sider_raft_done_cb cb, void *arg);

/* Membership. `cb` fires once the change is committed or failed. */
int sider_raft_add(sider_raft *h, uint64_t id, const char *address,
                   sider_raft_done_cb cb, void *arg);
int sider_raft_assign(sider_raft *h, uint64_t id, int role,
                      sider_raft_done_cb cb, void *arg);
int sider_raft_remove(sider_raft *h, uint64_t id, sider_raft_done_cb cb,
                      void *arg);
/* id 0 picks a voter. `cb` fires when the transfer ends (status 0; check
 * the leader to learn whether it succeeded). */
int sider_raft_transfer(sider_raft *h, uint64_t id, sider_raft_done_cb cb,
                        void *arg);

void sider_raft_get_status(sider_raft *h, sider_raft_status *out);
void sider_raft_get_stats(sider_raft *h, sider_raft_stats *out);
/* Calls fn once per server of the current (possibly uncommitted)
 * configuration. */
void sider_raft_configuration(sider_raft *h, sider_raft_server_fn fn,
                              void *arg);

/* Starts shutdown: pending requests complete (with an error) before this
 * returns or soon after; `cb` fires once libraft has released all I/O. */
void sider_raft_close(sider_raft *h, sider_raft_closed_cb cb, void *arg);
/* Frees the handle. After the close callback only. */
void sider_raft_destroy(sider_raft *h);

void *sider_raft_malloc(size_t size);
const char *sider_raft_strerror(int code);
const char *sider_raft_errmsg(sider_raft *h);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SIDER_CONSENSUS_RAFT_SHIM_H_ */
