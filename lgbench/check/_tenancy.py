"""Tenant isolation: who made each operation, who created each resource, and what each saw.

With ``[target.auth]`` every operation's invoke line names its user by label (``user``), a
user's ok lines name the owner the answer reported (``owner``) and what a search ``found``;
store calls carry their ``namespace`` (docs/history.md). :class:`Tenancy` is fed every
operation of the history (in any order) and judges them together at the end, as the
pseudo-thread :data:`TENANCY`, under the workload's policy (the history header's ``auth``:
``owner-only`` unless it says ``shared``).

A resource is *created* by the user of the ok operation that made it: ``threads.create`` and
``threads.copy`` (the new thread), ``assistants.create``, ``crons.create`` and
``crons.create_for_thread``; a store namespace by the earliest ok ``store.put_item`` into it.
Only what the history shows created counts: the server's own assistants, or resources made
before the run, are nobody's here.

- ``isolation_breach``: an ok operation of user B addressing a resource created by user A
  (its id in the request: a read, update, delete, run, stream, join or copy; a store call on
  A's namespace), or a search, item read or namespace listing of B that returned A's
  resource. Under ``shared`` only writes count (reading, searching and copying are allowed).
  A 404 or 403 is the correct answer and an ``info`` proves nothing.
- ``wrong_owner``: a resource created by A reported (by its create or a later read) as owned
  by the identity another user's creations report, not A's own; or two users whose creations
  all come back owned by one identity (each token of ``[target.auth]`` is a user of its own).
- ``auth_inconsistent``: the same request (operation, user, resources addressed) both
  answered ok and refused (401 or 403) with no write that may have touched those resources
  in between: the deployment's auth changed its mind with nothing changed.

Memory stays bounded the way the rest of the checker's is: one small entry per created
resource (as the progress index keeps per run); what could still prove something is kept, what
cannot is dropped as it is read: an access by the resource's own creator, an owner report
that agrees with the creation. Requests answered only ok are remembered for the latest
:data:`_RECENT_REQUESTS` (a refusal is judged against those, and those with a refusal are kept);
writes for the latest :data:`_RECENT_WRITTEN` resources, beyond which a resource whose writes
were forgotten is never called inconsistent (unknown is not proof). Accesses and reports
whose resource's creation has not been read yet are kept, at most :data:`_EARLY_PER_RESOURCE`
per resource, since lines of concurrent operations are not in creation order.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from lgbench.check._anomalies import Anomaly
from lgbench.check._events import Operation
from lgbench.check._model import short_id
from lgbench.operations import operation_names

__all__ = ["POLICIES", "TENANCY", "Tenancy"]

#: The pseudo-thread under which tenant isolation is judged.
TENANCY: Final = "tenancy"
#: The policies a workload may declare (``[target.auth] policy``).
POLICIES: Final = ("owner-only", "shared")

#: Operations that only read: allowed on another's resources under the ``shared`` policy.
#: The table's reads (a raw ``http.get`` addresses no resource), a join of a run (its stream
#: too), and a thread's copy, which reads another's thread into one of one's own.
_READS: Final = operation_names(
    lambda op: (op.reads_only and op.resource != "http") or (op.follows_run and not op.creates_run)
) | {"threads.copy"}
_CREATED_ID: Final = {
    "threads.create": "thread_id",
    "threads.copy": "thread_id",
    "assistants.create": "assistant_id",
    "crons.create": "cron_id",
    "crons.create_for_thread": "cron_id",
}
_SEARCH_KIND: Final = {
    "threads.search": "thread",
    "assistants.search": "assistant",
    "crons.search": "cron",
}
_ID_KINDS: Final = (("thread_id", "thread"), ("assistant_id", "assistant"), ("cron_id", "cron"))
_REFUSED: Final = frozenset({401, 403})
#: Witnesses kept per anomaly type; the rest are counted.
_KEEP: Final = 20
#: Write windows remembered per resource (for auth_inconsistent's "nothing changed"); a
#: resource written more often than this counts as changed at any time.
_WRITES_PER_RESOURCE: Final = 64
#: Requests answered only ok, remembered (least recently answered forgotten first).
_RECENT_REQUESTS: Final = 100_000
#: Requests with a refusal, remembered (beyond: their refusals are not judged).
_REFUSED_REQUESTS: Final = 10_000
#: Resources whose writes are remembered (least recently written forgotten first).
_RECENT_WRITTEN: Final = 100_000
#: Accesses and owner reports kept per resource whose creation was not read yet.
_EARLY_PER_RESOURCE: Final = 8

Resource = tuple[str, str]  # (kind, id); a store namespace is ("namespace", its JSON)
#: A request: its operation, its user, the resources it addressed and its store places.
_Key = tuple[str, str, tuple[Resource, ...]]


def _namespace(value: object) -> str | None:
    if isinstance(value, list) and value and all(isinstance(part, str) for part in value):
        return json.dumps(value)
    return None


def _describe(resource: Resource) -> str:
    kind, ident = resource
    if kind == "namespace":
        return f"store namespace {'.'.join(json.loads(ident))}"
    return f"{kind} {short_id(ident)}"


@dataclass(slots=True)
class _Creation:
    user: str
    op: Operation
    owner: str | None


@dataclass(slots=True)
class _Request:
    """The definite outcomes of one request (operation, user, resources)."""

    first_ok: Operation | None = None
    last_ok: Operation | None = None
    refusals: list[Operation] = field(default_factory=list)


class Tenancy:
    """Collects the facts of every user's operation; :meth:`anomalies` judges them."""

    def __init__(self) -> None:
        #: Operations made by a user (those with a ``user`` label).
        self.judged = 0
        self.created: dict[Resource, _Creation] = {}
        self._puts: dict[str, _Creation] = {}
        #: Accesses that may be breaches: another user's, or of a resource not yet created.
        self._accesses: list[tuple[Operation, str, Resource]] = []
        self._early_accesses: dict[Resource, int] = {}
        #: Owner reports that may be wrong: disagreeing, or of a resource not yet created.
        self._reports: list[tuple[Operation, Resource, str]] = []
        self._early_reports: dict[Resource, int] = {}
        self._oks: OrderedDict[_Key, _Request] = OrderedDict()
        self._refused: dict[_Key, _Request] = {}
        self._writes: OrderedDict[Resource, list[tuple[float, float]]] = OrderedDict()
        self._writes_forgotten = False

    # -- feeding ----------------------------------------------------------------------------

    def operation(self, op: Operation) -> None:
        user = op.args.get("user")
        if not isinstance(user, str):
            return
        self.judged += 1
        addressed = self._addressed(op)
        if op.f not in _READS and op.outcome != "fail":
            self._wrote(addressed, op)
        key = _request_key(op, user, addressed)
        if op.outcome == "fail":
            if op.status_code in _REFUSED:
                self._refusal(key, op)
            return
        if op.outcome != "ok":
            return  # info: it may or may not have happened, so it proves nothing
        if _refused_stream(op):
            return  # a stream that answered only "not found" in an error event leaked nothing
        self._accepted(key, op)
        owner = op.result.get("owner")
        owner = owner if isinstance(owner, str) else None
        self._created(op, user, owner)
        for resource in (*addressed, *self._found(op)):
            creation = self._creator(resource)
            if creation is not None and creation.user == user:
                continue  # its own creator: nothing to judge
            if creation is None and not self._early(self._early_accesses, resource):
                continue
            self._accesses.append((op, user, resource))
        if owner is not None:
            for resource in addressed:
                creation = self._creator(resource)
                if creation is not None and creation.owner == owner:
                    continue  # as created: nothing to judge
                if creation is None and not self._early(self._early_reports, resource):
                    continue
                self._reports.append((op, resource, owner))

    @staticmethod
    def _early(counts: dict[Resource, int], resource: Resource) -> bool:
        """Whether to keep one more fact of ``resource``, whose creation is not read yet."""
        count = counts.get(resource, 0)
        if count >= _EARLY_PER_RESOURCE:
            return False
        counts[resource] = count + 1
        return True

    def _wrote(self, addressed: tuple[Resource, ...], op: Operation) -> None:
        writes_by = self._writes
        for resource in addressed:
            writes = writes_by.get(resource)
            if writes is None:
                writes = writes_by[resource] = []
                if len(writes_by) > _RECENT_WRITTEN:
                    writes_by.popitem(last=False)
                    self._writes_forgotten = True
            else:
                writes_by.move_to_end(resource)
            if len(writes) <= _WRITES_PER_RESOURCE:
                writes.append((op.lo, op.hi))

    def _refusal(self, key: _Key, op: Operation) -> None:
        request = self._refused.get(key)
        if request is None:
            request = self._oks.pop(key, None) or _Request()
            if len(self._refused) >= _REFUSED_REQUESTS:
                return
            self._refused[key] = request
        if len(request.refusals) < _KEEP:
            request.refusals.append(op)

    def _accepted(self, key: _Key, op: Operation) -> None:
        request = self._refused.get(key)
        if request is None:
            request = self._oks.get(key)
            if request is None:
                request = self._oks[key] = _Request()
                if len(self._oks) > _RECENT_REQUESTS:
                    self._oks.popitem(last=False)
            else:
                self._oks.move_to_end(key)
        if request.first_ok is None or op.hi < request.first_ok.hi:
            request.first_ok = op
        if request.last_ok is None or op.lo > request.last_ok.lo:
            request.last_ok = op

    @staticmethod
    def _addressed(op: Operation) -> tuple[Resource, ...]:
        out: list[Resource] = []
        for key, kind in _ID_KINDS:
            value = op.args.get(key)
            if isinstance(value, str) and value:
                out.append((kind, value))
        if op.f.startswith("store."):
            namespace = _namespace(op.args.get("namespace"))
            if namespace is not None:
                out.append(("namespace", namespace))
        return tuple(out)

    def _created(self, op: Operation, user: str, owner: str | None) -> None:
        id_key = _CREATED_ID.get(op.f)
        if id_key is not None:
            ident = op.result.get(id_key)
            if isinstance(ident, str) and ident:
                resource = (id_key.removesuffix("_id"), ident)
                self.created.setdefault(resource, _Creation(user, op, owner))
        elif op.f == "store.put_item":
            namespace = _namespace(op.args.get("namespace"))
            if namespace is not None:
                earlier = self._puts.get(namespace)
                if earlier is None or op.lo < earlier.op.lo:
                    self._puts[namespace] = _Creation(user, op, None)

    @staticmethod
    def _found(op: Operation) -> Iterable[Resource]:
        found = op.result.get("found")
        if not isinstance(found, list):
            return ()
        kind = _SEARCH_KIND.get(op.f)
        if kind is not None:
            return [(kind, item) for item in found if isinstance(item, str)]
        if op.f in ("store.search_items", "store.get_item"):
            out = []
            for item in found:
                if isinstance(item, list) and item:
                    namespace = _namespace(item[0])
                    if namespace is not None:
                        out.append(("namespace", namespace))
            return out
        if op.f == "store.list_namespaces":
            return [("namespace", n) for n in map(_namespace, found) if n is not None]
        return ()

    # -- judging ----------------------------------------------------------------------------

    def _creator(self, resource: Resource) -> _Creation | None:
        if resource[0] == "namespace":
            return self._puts.get(resource[1])
        return self.created.get(resource)

    def anomalies(
        self, policy: str, shift: Callable[[Operation], Operation]
    ) -> tuple[list[Anomaly], dict[str, int]]:
        """The anomalies (first witnesses) and the count of each type."""
        counts: dict[str, int] = {}
        out: list[Anomaly] = []

        def add(kind: str, explanation: str, ops: Iterable[Operation]) -> None:
            counts[kind] = counts.get(kind, 0) + 1
            if counts[kind] <= _KEEP:
                refs = tuple(shift(op).ref() for op in ops)
                out.append(Anomaly(kind, TENANCY, (), explanation, refs))

        self._breaches(policy, add)
        self._wrong_owners(add)
        self._inconsistent(add)
        return out, counts

    def _breaches(self, policy: str, add: Callable[[str, str, Iterable[Operation]], None]) -> None:
        """One breach per offending operation, naming the first resource it reached."""
        leaked: dict[int, tuple[Operation, str, list[tuple[Resource, _Creation]]]] = {}
        for op, user, resource in self._accesses:
            creation = self._creator(resource)
            if creation is None or creation.user == user or creation.op is op:
                continue
            if policy == "shared" and op.f in _READS:
                continue
            if op.f == "store.put_item" and creation.op.lo > op.lo:
                continue  # the earlier put made the namespace B's: judged the other way
            entry = leaked.setdefault(id(op), (op, user, []))
            if all(resource != seen for seen, _ in entry[2]):
                entry[2].append((resource, creation))
        for op, user, reached in leaked.values():
            resource, creation = reached[0]
            how = "succeeded on" if resource in self._addressed(op) else "returned"
            more = f" (and {len(reached) - 1} more of other users')" if len(reached) > 1 else ""
            add(
                "isolation_breach",
                f"{user}'s {op.f} {how} {_describe(resource)}, which {creation.user} created "
                f"(event {creation.op.ref().index}){more}: another tenant's resource",
                (op, creation.op),
            )

    def _identities(self) -> dict[str, str]:
        """Each user's identity: the owner most of its creations report."""
        votes: dict[str, dict[str, int]] = {}
        for creation in self.created.values():
            if creation.owner is not None:
                tally = votes.setdefault(creation.user, {})
                tally[creation.owner] = tally.get(creation.owner, 0) + 1
        return {user: max(tally, key=lambda o: (tally[o], o)) for user, tally in votes.items()}

    def _wrong_owners(self, add: Callable[[str, str, Iterable[Operation]], None]) -> None:
        identities = self._identities()
        users_of: dict[str, set[str]] = {}
        for user, identity in identities.items():
            users_of.setdefault(identity, set()).add(user)
        flagged: set[Resource] = set()
        reports = [
            (creation.op, resource, creation.owner)
            for resource, creation in self.created.items()
            if creation.owner is not None
        ]
        for op, resource, owner in [*reports, *self._reports]:
            creation = self._creator(resource)
            if creation is None or resource in flagged:
                continue
            own = identities.get(creation.user)
            others = users_of.get(owner, set()) - {creation.user}
            if own is None or owner == own or not others:
                continue
            flagged.add(resource)
            add(
                "wrong_owner",
                f"{_describe(resource)}, created by {creation.user}, was reported owned by "
                f"{owner!r} by {op.f} (event {op.ref().index}): the identity of "
                f"{', '.join(sorted(others))}, not {creation.user}'s {own!r}",
                (op, creation.op) if op is not creation.op else (op,),
            )
        self._shared_identities(users_of, add)

    def _shared_identities(
        self,
        users_of: Mapping[str, set[str]],
        add: Callable[[str, str, Iterable[Operation]], None],
    ) -> None:
        """Users whose creations all come back owned by one identity: each token is a user
        of its own, so what a later user created reads back as owned by the first."""
        first: dict[str, _Creation] = {}
        for creation in self.created.values():
            known = first.get(creation.user)
            if creation.owner is not None and (known is None or creation.op.lo < known.op.lo):
                first[creation.user] = creation
        for identity, users in sorted(users_of.items()):
            if len(users) < 2:
                continue
            ordered = sorted(users, key=_label_order)
            for user in ordered[1:]:
                creation = first[user]
                add(
                    "wrong_owner",
                    f"what {user} created is reported owned by {identity!r}, as what "
                    f"{ordered[0]} created: two users' tokens, one owner (event "
                    f"{creation.op.ref().index})",
                    (creation.op, first[ordered[0]].op),
                )

    def _inconsistent(self, add: Callable[[str, str, Iterable[Operation]], None]) -> None:
        for (f, user, request_key), request in self._refused.items():
            addressed = tuple(r for r in request_key if r[0] != "place")
            if not request.refusals or request.first_ok is None or request.last_ok is None:
                continue
            for refused in request.refusals:
                pair: tuple[Operation, Operation] | None = None
                if request.first_ok.hi < refused.lo:
                    pair = (request.first_ok, refused)
                elif request.last_ok.lo > refused.hi:
                    pair = (refused, request.last_ok)
                if pair is None or self._changed(addressed, pair[0], pair[1]):
                    continue
                status = refused.status_code
                what = ", ".join(_describe(r) for r in addressed) or "no resource"
                first, then = ("accepted", status) if pair[1] is refused else (status, "accepted")
                add(
                    "auth_inconsistent",
                    f"{user}'s {f} on {what} was {first} (event {pair[0].ref().index}) and then "
                    f"{then} (event {pair[1].ref().index}), with no write to it in between",
                    pair,
                )
                break

    def _changed(self, addressed: tuple[Resource, ...], first: Operation, then: Operation) -> bool:
        """Whether a write that may have touched ``addressed`` overlaps the time between (or
        the writes of one of them were forgotten: then nobody can tell)."""
        lo, hi = first.lo, then.hi
        own = {(first.lo, first.hi), (then.lo, then.hi)}
        for resource in addressed:
            writes = self._writes.get(resource)
            if writes is None:
                if self._writes_forgotten:
                    return True
                continue
            if len(writes) > _WRITES_PER_RESOURCE:
                return True
            for window in writes:
                if window not in own and window[0] <= hi and window[1] >= lo:
                    return True
        return False


def _label_order(label: str) -> tuple[int, str]:
    number = label.rsplit("-", 1)[-1]
    return (int(number) if number.isdigit() else 0, label)


def _request_key(op: Operation, user: str, addressed: tuple[Resource, ...]) -> _Key:
    """The same request: the same operation, user, resources, store prefix and key."""
    places = tuple(
        ("place", json.dumps([name, op.args[name]]))
        for name in ("namespace_prefix", "prefix", "key")
        if name in op.args
    )
    return (op.f, user, addressed + places)


def _refused_stream(op: Operation) -> bool:
    """A stream whose whole answer was an error event, before any metadata: the in-memory
    server refuses a join of another user's run that way (200, then ``event: error``)."""
    result = op.result
    events = result.get("events")
    return (
        result.get("error_event") is not None
        and not result.get("metadata")
        and isinstance(events, int)
        and events <= 1
    )


def policy_of(headers: Iterable[Mapping[str, Any]]) -> str:
    """The policy the history header declares (``auth.policy``), ``owner-only`` by default."""
    for header in headers:
        auth = header.get("auth")
        if isinstance(auth, Mapping) and auth.get("policy") in POLICIES:
            return str(auth["policy"])
    return POLICIES[0]
