"""Live events in the apps: one listener per server process and database, fanned out to
the Panel sessions that asked for a take (PRD-11).

`hub(url)` is that process's `Hub`: a daemon thread with its own autocommit connection
LISTENs on the catalog's channels (`trulience.catalog.events`), and each event for a take is
handed to the sessions subscribed to it, *on their own Bokeh document*
(`doc.add_next_tick_callback`, the one document call Bokeh allows from another thread), so
a callback may change widgets as any click handler does. Queue events (`events.QUEUE`) are
about every take at once: a session follows them all with `subscribe(EVERY_TAKE, ...,
events.QUEUE)`. A session that is destroyed is
dropped. The database restarting never reaches a session: the thread reconnects with
backoff and then tells every subscriber `{"kind": "resync", "scene_id": <its take>}` (or
`"room"`): events sent meanwhile were lost, and a page re-reads what it shows.
"""

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg

from trulience.catalog import events
from trulience.catalog.database import connect
from trulience.config import mask_url
from trulience.errors import TrulienceError

log = logging.getLogger(__name__)

Callback = Callable[[dict[str, Any]], None]
RESYNC = {"kind": "resync"}
# How long the listener waits for a notification before it looks whether to stop.
POLL_S = 0.5
# Reconnecting after the database went away: first wait, doubling up to the longest.
BACKOFF_S = (0.2, 10.0)
# How long the first subscriber waits for the listener to be listening.
FIRST_CONNECT_S = 2.0
# The "take" a queue subscription names: queue events reach every queue subscriber.
EVERY_TAKE = 0


class Document(Protocol):
    """What the hub needs of a Bokeh document (a plain test hands a fake one)."""

    def add_next_tick_callback(self, callback: Callable[[], None]) -> object: ...

    def on_session_destroyed(self, *callbacks: Callable[[Any], None]) -> None: ...


@dataclass(frozen=True, slots=True, eq=False)
class _Subscriber:
    key: tuple[str, int]
    callback: Callback
    doc: Document | None


def _field_of(channel: str) -> str:
    return "room" if channel == events.ROOM else "scene_id"


def _key_of(event: events.Event) -> tuple[str, int] | None:
    """Which take or room an event is about: a note or decision names its take
    (`scene_id`), a room event its room (`room`, the take's id); a queue event is for
    every queue subscriber (`EVERY_TAKE`), and so is a segment queue's grant (`events.POOL`)."""
    if event.channel in (events.QUEUE, events.POOL):
        return (event.channel, EVERY_TAKE)
    field = _field_of(event.channel)
    value = event.payload.get(field)
    return (event.channel, value) if isinstance(value, int) else None


class Hub:
    """The process's listener on one database and who listens through it (see module);
    it starts listening with its first subscriber."""

    def __init__(
        self,
        url: str,
        *,
        poll_s: float = POLL_S,
        backoff_s: tuple[float, float] = BACKOFF_S,
        channels: tuple[str, ...] = events.REVIEW_CHANNELS,
    ):
        self.url, self.poll_s, self.backoff_s = url, poll_s, backoff_s
        self.channels = channels
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._subscribers: dict[int, _Subscriber] = {}
        self._ids = itertools.count()
        self._watched_docs: set[int] = set()
        self._publisher: psycopg.Connection | None = None
        self._publish_lock = threading.Lock()
        self._thread = threading.Thread(target=self._listen, name="trulience-live", daemon=True)
        self._started = False  # listening starts with the first subscriber

    # -- sessions ------------------------------------------------------------------------

    def subscribe(
        self,
        scene_id: int,
        callback: Callback,
        channel: str = events.REVIEW,
        doc: Document | None = None,
    ) -> Callable[[], None]:
        """Call `callback(payload)` for each event about take `scene_id` on `channel`, on the
        subscribing session's document (`pn.state.curdoc` now, unless `doc` is given);
        returns the function that unsubscribes."""
        if doc is None:
            import panel as pn  # the hub itself is plain threads; only sessions are Panel

            doc = pn.state.curdoc
        number = next(self._ids)
        with self._lock:
            self._subscribers[number] = _Subscriber((channel, scene_id), callback, doc)
            watch = doc is not None and id(doc) not in self._watched_docs
            if watch:
                self._watched_docs.add(id(doc))
            starting = not self._started
            if starting:
                self._started = True
                self._thread.start()
        if starting:  # the first subscriber waits (a little) until nothing can be missed
            self.connected.wait(FIRST_CONNECT_S)
        if watch:
            doc.on_session_destroyed(lambda _context, doc=doc: self._forget(doc))
        return lambda: self._unsubscribe(number)

    def _unsubscribe(self, number: int) -> None:
        with self._lock:
            self._subscribers.pop(number, None)

    def _forget(self, doc: Document) -> None:
        """A session was destroyed: its subscriptions go with it."""
        with self._lock:
            self._watched_docs.discard(id(doc))
            for number, subscriber in list(self._subscribers.items()):
                if subscriber.doc is doc:
                    del self._subscribers[number]

    def subscribers(self, scene_id: int, channel: str = events.REVIEW) -> int:
        """How many subscriptions take `scene_id` has on `channel` (for tests and logs)."""
        with self._lock:
            return sum(s.key == (channel, scene_id) for s in self._subscribers.values())

    def publish(self, channel: str, payload: dict[str, Any]) -> None:
        """Send `payload` on `channel` through the hub's own connection (reconnected once if
        the database restarted meanwhile); a database that is down is a TrulienceError."""
        with self._publish_lock:
            for attempt in (1, 2):
                try:
                    if self._publisher is None or self._publisher.closed:
                        self._publisher = connect(self.url)
                    events.publish(self._publisher, channel, payload)
                    return
                except psycopg.OperationalError:
                    self._publisher = None
                    if attempt == 2:
                        raise TrulienceError(
                            f"cannot reach Postgres at {mask_url(self.url)} to publish"
                        ) from None

    # -- the listener thread ---------------------------------------------------------------

    def _listen(self) -> None:
        wait_s, longest_s = self.backoff_s
        first = True
        while not self._stop.is_set():
            try:
                with connect(self.url) as conn:
                    events.listen(conn, self.channels)
                    self.connected.set()
                    wait_s = self.backoff_s[0]
                    if not first:
                        self._deliver_all(dict(RESYNC))
                    first = False
                    while not self._stop.is_set():
                        for event in events.events(conn, self.poll_s):
                            self._dispatch(event)
            except (psycopg.Error, TrulienceError) as error:
                self.connected.clear()
                log.warning("live events: %s; reconnecting in %.1f s", error, wait_s)
                self._stop.wait(wait_s)
                wait_s = min(wait_s * 2, longest_s)
        self.connected.clear()

    def _dispatch(self, event: events.Event) -> None:
        key = _key_of(event)
        if key is None:
            return
        with self._lock:
            chosen = [s for s in self._subscribers.values() if s.key == key]
        for subscriber in chosen:
            self._deliver(subscriber, event.payload)

    def _deliver_all(self, payload: dict[str, Any]) -> None:
        with self._lock:
            everyone = list(self._subscribers.values())
        for subscriber in everyone:  # each hears it about its own take or room
            channel, number = subscriber.key
            self._deliver(subscriber, payload | {_field_of(channel): number})

    def _deliver(self, subscriber: _Subscriber, payload: dict[str, Any]) -> None:
        """Schedule the callback on its session's document; a failing callback is logged
        (it must not stop the listener or other sessions)."""

        def run() -> None:
            try:
                if subscriber.doc is None:
                    subscriber.callback(dict(payload))
                    return
                from panel.io.state import set_curdoc  # as Panel's own scheduled callbacks do

                # the session's document as Panel's current one: widgets made now (a list
                # of notes re-read) belong to it and answer their clicks
                with set_curdoc(subscriber.doc):
                    subscriber.callback(dict(payload))
            except Exception:  # a session's bug stays in that session
                log.exception("live event callback failed for %s", subscriber.key)

        if subscriber.doc is None:
            run()
            return
        try:
            subscriber.doc.add_next_tick_callback(run)
        except Exception:  # the document is gone (its session closed): forget it
            self._forget(subscriber.doc)

    def stop(self, timeout_s: float = 5) -> None:
        """Stop listening (tests; a served process's daemon thread ends with it)."""
        self._stop.set()
        if self._started:
            self._thread.join(timeout_s)
        with self._publish_lock:
            if self._publisher is not None:
                self._publisher.close()
                self._publisher = None


_HUBS: dict[tuple[str, tuple[str, ...]], Hub] = {}
_HUBS_LOCK = threading.Lock()


def hub(url: str, channels: tuple[str, ...] = events.REVIEW_CHANNELS) -> Hub:
    """This process's hub for the database at `url` on `channels` (the review pages'
    unless told: the queue page adds the segment queue's, `events.POOL`), started on first
    use."""
    with _HUBS_LOCK:
        found = _HUBS.get((url, channels))
        if found is None or found._stop.is_set():
            found = _HUBS[url, channels] = Hub(url, channels=channels)
        return found
