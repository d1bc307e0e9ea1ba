"""Rewind and branch: snapshots of a session's training and the loss curve of each branch.

A snapshot holds the trainer's state (weights, optimizer state, epoch and batch index, which fix
the data order) and the settings then in force, so training on from it with nothing changed
retraces the original branch exactly. Rewinding opens a new branch from the snapshot's step.
"""

from __future__ import annotations

import copy

MAX_SNAPSHOTS = 50
MAX_POINTS = 2000  # loss points kept per branch (halved when full)


def interval(step):
    """Steps between snapshots from ``step`` on: 100 up to 1,000, 1,000 up to 10,000, then 10,000.
    A snapshot is taken at every multiple of the interval the training reaches."""
    return 100 if step < 1000 else 1000 if step < 10_000 else 10_000


class Timeline:
    def __init__(self):
        self.snapshots, self.branches, self._next_snapshot = [], [], 0
        self.branch = self._new_branch(None, 0)

    def _new_branch(self, parent, from_step):
        branch = {"id": len(self.branches), "parent": parent, "from_step": from_step, "steps": [], "train": [],
                  "test": []}
        self.branches.append(branch)
        return branch

    def take(self, step, state, settings):
        snap = {"id": self._next_snapshot, "step": int(step), "branch": self.branch["id"], "state": state,
                "settings": copy.deepcopy(settings)}
        self._next_snapshot += 1
        self.snapshots.append(snap)
        if len(self.snapshots) > MAX_SNAPSHOTS:  # keep each branch's first one; drop the oldest other
            firsts = {min((s["id"] for s in self.snapshots if s["branch"] == b), default=None)
                      for b in {s["branch"] for s in self.snapshots}}
            for k, s in enumerate(self.snapshots):
                if s["id"] not in firsts:
                    del self.snapshots[k]
                    break
            else:
                del self.snapshots[0]
        return snap

    def find(self, snapshot_id):
        for s in self.snapshots:
            if s["id"] == snapshot_id:
                return s
        return None

    def branch_from(self, snap):
        self.branch = self._new_branch(snap["branch"], snap["step"])
        return self.branch

    def record(self, step, train, test):
        b = self.branch
        if b["steps"] and b["steps"][-1] == step:
            return
        b["steps"].append(int(step))
        b["train"].append(train)
        b["test"].append(test)
        if len(b["steps"]) > MAX_POINTS:
            for key in ("steps", "train", "test"):
                b[key] = b[key][::2]

    def message(self):
        return {"type": "timeline",
                "snapshots": [{"id": s["id"], "step": s["step"], "branch": s["branch"]} for s in self.snapshots],
                "branches": copy.deepcopy(self.branches)}
