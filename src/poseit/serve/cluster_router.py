"""The ``Ingress`` deployment's request router on Ray (loaded by Ray Serve's proxies from its class path).

Each WebSocket is one long request, and a replica accepts ``max_clients`` of them. Ray Serve's default router
(power of two choices on queue lengths) placed them badly, measured with two replicas: a proxy first tries only
the replicas on its own node and takes one there whenever it is under ``max_ongoing_requests`` (30 of 30 new
sessions went to the head's replica, beside the proxy); without that, sessions that arrive together all read the
same cached or probed queue lengths (2 sessions on one replica, 3+1 of 4, 5+3 of 8).

`SpreadRouter` sends each request to the replica with the fewest of this proxy's requests in flight on it,
counting a request the moment it is placed (ties at random). It derives from Ray's plain `RequestRouter`, not
from the default router's FIFO mixin: with that mixin Ray hands the replica chosen for one request to the oldest
waiting request instead and asks again for the first, so several sessions arriving together got the choices made
for others (5 of 8 sent to one replica in a row, measured with a log of every choice: 6+2 of 8, 3+1 of 4). Here
the replica chosen for a request is the one it is sent to (Ray matches them by the request's id).

Only that replica is offered, for the first `FIRST_CHOICE_TRIES` tries of a request: Ray checks it against its
queue-length cache and, where the entry is missing, probes it with a 0.1 s deadline, and would take the next
replica offered when the probe misses on a loaded machine; each further try doubles the deadline, and after
`FIRST_CHOICE_TRIES` every replica is offered in order, so a replica that does not answer costs a request a few
tenths of a second, never a hang. A placement never sent is forgotten after `PLACED_FOR_S`. With one proxy (the
head's) the count is exact; with a proxy on every node each balances its own clients.
"""

from __future__ import annotations

import random
import time
from typing import Any, NamedTuple

from ray.serve.request_router import PendingRequest, ReplicaID, RequestRouter, RunningReplica

PLACED_FOR_S = 2.0  # a placement not sent within this long was dropped and is forgotten
FIRST_CHOICE_TRIES = 3  # tries of a request offered only its least-loaded replica (Ray probes 0.1, 0.2, 0.4 s)


class Placement(NamedTuple):
    replica: ReplicaID
    at: float  # time.monotonic() of the last try
    tries: int


class SpreadRouter(RequestRouter):
    """Least requests in flight from this router, wherever the proxy runs."""

    def initialize_state(self, **kwargs: Any) -> None:
        super().initialize_state(**kwargs)
        self.live: dict[ReplicaID, int] = {}  # requests routed to a replica and not completed
        self.placed: dict[str, Placement] = {}  # request (internal id) -> replica chosen, not yet sent

    def load(self, replica_id: ReplicaID) -> int:
        return self.live.get(replica_id, 0) + sum(1 for p in self.placed.values() if p.replica == replica_id)

    async def choose_replicas(
        self, candidate_replicas: list[RunningReplica], pending_request: PendingRequest | None = None
    ) -> list[list[RunningReplica]]:
        now = time.monotonic()
        self.placed = {k: p for k, p in self.placed.items() if now - p.at < PLACED_FOR_S}
        key = pending_request.metadata.internal_request_id if pending_request is not None else None
        before = self.placed.pop(key, None) if key is not None else None  # tried again: its last choice failed
        if not candidate_replicas:
            return []
        ranked = sorted(candidate_replicas, key=lambda r: (self.load(r.replica_id), random.random()))
        tries = (before.tries if before else 0) + 1
        if key is not None:
            self.placed[key] = Placement(ranked[0].replica_id, now, tries)
        if tries <= FIRST_CHOICE_TRIES:
            return [[ranked[0]]]
        return [[r] for r in ranked]

    def on_send_request(self, replica_id: ReplicaID) -> None:
        """A request goes to ``replica_id`` (right after it was chosen): its placement becomes a live request."""
        super().on_send_request(replica_id)
        mine = [k for k, p in self.placed.items() if p.replica == replica_id]
        if not mine and self.placed:  # sent elsewhere than placed (a later try): the oldest placement was it
            mine = [min(self.placed, key=lambda k: self.placed[k].at)]
        if mine:
            self.placed.pop(mine[0])
        self.live[replica_id] = self.live.get(replica_id, 0) + 1

    def on_request_completed(self, replica_id: ReplicaID, internal_request_id: str) -> None:
        super().on_request_completed(replica_id, internal_request_id)
        self.placed.pop(internal_request_id, None)
        left = self.live.get(replica_id, 0) - 1
        if left > 0:
            self.live[replica_id] = left
        else:
            self.live.pop(replica_id, None)
