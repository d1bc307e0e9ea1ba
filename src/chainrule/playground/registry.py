"""The sessions a server holds: open ones, and closed ones kept a while for their exports.

A closed session is freed ``KEEP_SECONDS`` after its socket closed, and at most ``MAX_CLOSED``
are kept (the oldest goes first), so a server that sees many tabs holds a bounded memory.
"""

from __future__ import annotations

import time

KEEP_SECONDS = 10 * 60
MAX_CLOSED = 16


class Registry:
    def __init__(self, keep_seconds=KEEP_SECONDS, max_closed=MAX_CLOSED):
        self.open, self.closed_at = {}, {}
        self.sessions = {}
        self.keep_seconds, self.max_closed = keep_seconds, max_closed

    def add(self, session):
        self.purge()
        self.sessions[session.id] = session
        self.open[session.id] = session

    def closed(self, session):
        self.open.pop(session.id, None)
        self.closed_at[session.id] = time.monotonic()
        self.purge()

    def get(self, session_id):
        self.purge()
        return self.sessions.get(session_id)

    def purge(self):
        now = time.monotonic()
        old = [k for k, t in self.closed_at.items() if now - t > self.keep_seconds]
        newest_first = sorted(self.closed_at, key=self.closed_at.get, reverse=True)
        old += newest_first[self.max_closed:]
        for k in set(old):
            self.closed_at.pop(k, None)
            self.sessions.pop(k, None)
