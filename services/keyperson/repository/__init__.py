"""Every query of the keyperson service, by concept (no commits: the request or the outbox
handler owns the transaction):

- `roster`: key workers, their locality, team and skill index rows, their mobiles;
- `rota`: shifts and absences;
- `assignments`: assignments and key-person links, the referrals waiting, the figures;
- `matching`: the statements of one assignment's hot path (the person's context, the
  candidate page, a worker's place taken or counted again, a person serialised);
- `outbox`: the announcements written on the outbox table with a new assignment.

They are re-exported here, so that domain modules read `repo.<query>` from one place.
"""

from services.keyperson.repository.assignments import (
    OPEN,
    any_link_for,
    assignment_for,
    assignment_insert,
    assignment_values,
    continuity_counts,
    insert_assignment,
    latest_open_assignment,
    link_for,
    open_assignment_count,
    open_assignments_of,
    waiting_assignments,
)
from services.keyperson.repository.matching import (
    HELD,
    WORKER_COLUMNS,
    KeyWorkerNow,
    PersonContext,
    WorkerRow,
    best_candidates,
    candidate_workers,
    holders_of,
    key_worker_now,
    lock_person,
    person_context,
    recount_caseload,
    take_capacity,
)
from services.keyperson.repository.outbox import (
    OutboxRow,
    delete_undelivered,
    write_announcements,
)
from services.keyperson.repository.roster import (
    add,
    get_keyworker,
    list_keyworkers,
    phone_in_use,
    remove,
    set_areas,
    workers_by_ids,
)
from services.keyperson.repository.rota import (
    absences_not_ended,
    absences_of,
    absences_overlapping,
    absent_now,
    get_absence,
    get_shift,
    on_shift_between,
    shifts_overlapping,
)

__all__ = [
    "HELD", "OPEN", "WORKER_COLUMNS", "KeyWorkerNow", "OutboxRow", "PersonContext",
    "WorkerRow", "absences_not_ended", "absences_of", "absences_overlapping", "absent_now",
    "add", "any_link_for", "assignment_for", "assignment_insert", "assignment_values",
    "best_candidates", "candidate_workers", "continuity_counts", "delete_undelivered",
    "get_absence", "get_keyworker", "get_shift", "holders_of", "insert_assignment",
    "key_worker_now", "latest_open_assignment", "link_for", "list_keyworkers", "lock_person",
    "on_shift_between", "open_assignment_count", "open_assignments_of", "person_context",
    "phone_in_use", "recount_caseload", "remove", "set_areas", "shifts_overlapping",
    "take_capacity", "waiting_assignments", "workers_by_ids", "write_announcements",
]
