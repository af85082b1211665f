/* raft_shim_internal: the shim's snapshot module (raft_shim_snapshot.c), as
 * raft_shim.c sees it: Raft snapshots encoded off the loop thread (see
 * "Snapshots" in raft_shim.h). C only; includes <raft.h>.
 *
 * Threading: the loop thread, except where bgSnapshot says otherwise. */
#ifndef SIDER_CONSENSUS_RAFT_SHIM_INTERNAL_H_
#define SIDER_CONSENSUS_RAFT_SHIM_INTERNAL_H_

#include <raft.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "consensus/raft_shim.h"

/* A command that libraft has applied but the FSM has not (yet), or that
 * belongs to the tail of the snapshot being built. */
struct tailEntry {
  uint64_t index;
  size_t len;
  void *data; /* malloc'd copy of the command (unframed); ours only. */
};

/* A completion (raft_apply or raft_barrier) that libraft reported while the
 * FSM was behind; fired once the FSM has applied through `index`. */
struct heldCompletion {
  struct heldCompletion *next;
  uint64_t index;
  void (*fire)(struct heldCompletion *held);
};

/* The background snapshot (see "Snapshots" in raft_shim.h), a member of
 * the sider_raft handle. Loop thread only, except `done`/`rv`/`data`/`len`,
 * which the worker writes and the loop thread reads under `mu` (or after
 * the work's after-callback). */
struct bgSnapshot {
  uv_loop_t *loop;
  struct raft *raft;              /* For last_applied. */
  const sider_raft_fsm_ops *ops;  /* The handle's. */
  uv_work_t work;
  uv_mutex_t mu;
  uv_cond_t cv;
  bool work_busy;   /* `work` queued and its after-callback not yet run. */
  bool encoding;    /* The worker reads the FSM: nothing may write it. */
  bool done;        /* Worker finished (under mu). */
  int rv;           /* Worker's result (under mu). */
  void *data;       /* Worker's encoding (under mu); raft_malloc'd. */
  size_t len;
  bool base_ready;  /* `base` encodes the FSM as of `base_index`. */
  void *base;
  size_t base_len;
  uint64_t base_index;
  uint64_t started_ns;     /* When the encode was started. */
  uint64_t encode_ns;      /* Worker time of the last encode. */
  /* Commands since base_index (recording) and/or not yet applied: entries
   * [replay_pos, n) are still to be applied to the FSM, in order. */
  struct tailEntry *tail;
  size_t tail_n, tail_cap, replay_pos;
  struct heldCompletion *held_head, *held_tail;
  uv_idle_t replay_idle;
  bool closing;
  /* Loop stall detector: a periodic timer records the longest gap. */
  uv_timer_t gap_timer;
  uint64_t gap_last_ns, gap_max_ns;
  int handles_open; /* Of replay_idle and gap_timer. */
  void (*closed_cb)(void *arg);
  void *closed_arg;
};

void snapInit(struct bgSnapshot *s, uv_loop_t *loop, struct raft *raft,
              const sider_raft_fsm_ops *ops);
/* Restarts the loop stall detector (after loading the log). */
void snapResetGap(struct bgSnapshot *s);
/* A decoded committed command from libraft's apply: applies it, or holds it
 * while a snapshot is being encoded or older commands are still held. */
int snapApply(struct bgSnapshot *s, uint64_t index, const void *data, size_t len);
/* libraft's snapshot request for an FSM with ops.snapshot_encode. */
int snapTake(struct bgSnapshot *s, struct raft_buffer *bufs[], unsigned *n_bufs);
/* libraft's restore: an envelope or a plain ops.snapshot() encoding. On
 * success the buffer's bytes are freed (libraft's contract). */
int snapRestore(struct bgSnapshot *s, struct raft_buffer *buf);
/* The index through which the FSM has really applied. */
uint64_t snapFsmApplied(struct bgSnapshot *s);
/* Queues a successful completion at c->index until the FSM has applied
 * through it; false if the caller should fire it now. */
bool snapHoldCompletion(struct bgSnapshot *s, struct heldCompletion *c);
/* sider_raft_close: no new encode starts. */
void snapBeginClose(struct bgSnapshot *s);
/* libraft has closed: waits for a running encode, applies and reports what
 * is held, closes the module's handles, then calls `cb`. */
void snapClose(struct bgSnapshot *s, void (*cb)(void *arg), void *arg);
/* Frees what is left; after the loop has ended. */
void snapDestroy(struct bgSnapshot *s);

#endif /* SIDER_CONSENSUS_RAFT_SHIM_INTERNAL_H_ */
