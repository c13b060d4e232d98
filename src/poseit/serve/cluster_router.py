"""The ``Ingress`` deployment's request router on Ray (loaded by Ray Serve's proxies from its class path).

Each WebSocket is one long request, and a replica accepts ``max_clients`` of them. Ray Serve's default router
(power of two choices on queue lengths) placed them badly, measured with two replicas: a proxy first tries only
the replicas on its own node and takes one there whenever it is under ``max_ongoing_requests`` (30 of 30 new
sessions went to the head's replica, beside the proxy); without that, sessions that arrive together all read the
same cached or probed queue lengths (2 sessions on one replica, 3+1 of 4, 5+3 of 8). `SpreadRouter` sends each
request to the replica with the fewest of this proxy's requests in flight on it, counting a request the moment
it is placed (ties at random; the others follow in order in case it refuses). A placement that is never sent
(Ray's routing tasks can leave one) is forgotten after `PLACED_FOR_S`: kept 30 s, such leftovers had skewed the
next sessions (3+1, 5+3 again). With one proxy (the head's) the count is exact; with a proxy on every node each
balances its own clients.
"""

from __future__ import annotations

import random
import time
from typing import Any

from ray.serve._private.request_router.pow_2_router import PowerOfTwoChoicesRequestRouter
from ray.serve.request_router import PendingRequest, ReplicaID, RunningReplica

PLACED_FOR_S = 2.0  # a placement not sent within this long was dropped (a routing task left it) and is forgotten


class SpreadRouter(PowerOfTwoChoicesRequestRouter):
    """Least requests in flight from this router, wherever the proxy runs."""

    def initialize_state(self, **kwargs: Any) -> None:
        super().initialize_state(**kwargs)
        self._prefer_local_node_routing = self._prefer_local_az_routing = False
        self.live: dict[ReplicaID, int] = {}  # requests routed to a replica and not completed
        self.placed: dict[int, tuple[ReplicaID, float]] = {}  # request (id) -> replica chosen, not yet sent

    def load(self, replica_id: ReplicaID) -> int:
        return self.live.get(replica_id, 0) + sum(1 for r, _ in self.placed.values() if r == replica_id)

    async def choose_replicas(
        self, candidate_replicas: list[RunningReplica], pending_request: PendingRequest | None = None
    ) -> list[list[RunningReplica]]:
        now = time.monotonic()
        self.placed = {k: v for k, v in self.placed.items() if now - v[1] < PLACED_FOR_S}
        if pending_request is not None:
            self.placed.pop(id(pending_request), None)  # tried again: its last choice refused
        if not candidate_replicas:
            return []
        ranked = sorted(candidate_replicas, key=lambda r: (self.load(r.replica_id), random.random()))
        if pending_request is not None:
            self.placed[id(pending_request)] = (ranked[0].replica_id, now)
        return [[r] for r in ranked]

    def on_send_request(self, replica_id: ReplicaID) -> None:
        """A request goes to ``replica_id`` (right after it was chosen): its placement becomes a live request."""
        super().on_send_request(replica_id)
        mine = [k for k, (r, _) in self.placed.items() if r == replica_id]
        if mine:
            self.placed.pop(mine[0])
        self.live[replica_id] = self.live.get(replica_id, 0) + 1

    def on_request_completed(self, replica_id: ReplicaID, internal_request_id: str) -> None:
        super().on_request_completed(replica_id, internal_request_id)
        left = self.live.get(replica_id, 0) - 1
        if left > 0:
            self.live[replica_id] = left
        else:
            self.live.pop(replica_id, None)
