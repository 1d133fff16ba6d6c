"""Every query of the intake service, by concept (no commits: the request, the outbox handler
or a documented unit of work owns the transaction):

- `contacts`: calls, texts, emails and website messages, a person's story, and the new calls
  the call book writes a batch at a time;
- `people`: the person index, possible matches, search and merges;
- `referrals`: the referrals intake knows of;
- `callbacks`: the callback list and the steps taken on it;
- `preferences`: STOP / START by number;
- `outbox`: what intake's outbox already holds;
- `figures`: intake's part of the monthly figures (imported as its own module).

The first five are re-exported here, so that domain modules read `repository.<query>` from one
place.
"""

from services.intake.repository.callbacks import (
    add_callback_if_new,
    attempts_of,
    attempts_of_callbacks,
    get_callback,
    open_callback_count,
    open_callbacks,
    open_crisis_callback,
)
from services.intake.repository.contacts import (
    add_calls,
    add_calls_pg,
    contact_by_external,
    contact_by_message_id,
    contacts_by_id,
    contacts_for_reference,
    earlier_calls_pg,
    get_contact,
    insert_contact_if_new,
    people_by_phone,
    set_contact,
    story_contacts,
)
from services.intake.repository.outbox import (
    outbox_key_taken,
)
from services.intake.repository.people import (
    add_identifier_if_new,
    flag_possible_match,
    get_person,
    get_possible_match,
    identifiers_of,
    identifiers_of_people,
    matches_between,
    move_person,
    open_possible_matches,
    people_by_id,
    people_named,
    person_for_identifier,
    search_people,
)
from services.intake.repository.preferences import (
    is_opted_out,
    set_opt_out,
)
from services.intake.repository.referrals import (
    add_link_if_new,
    get_link,
    link_for_referral,
    open_link_for_person,
    references_of_people,
)

__all__ = [
    "add_callback_if_new", "add_calls", "add_calls_pg", "add_identifier_if_new",
    "add_link_if_new", "attempts_of", "attempts_of_callbacks", "contact_by_external",
    "contact_by_message_id", "contacts_by_id", "contacts_for_reference", "earlier_calls_pg",
    "flag_possible_match", "get_callback", "get_contact", "get_link", "get_person",
    "get_possible_match", "identifiers_of", "identifiers_of_people", "insert_contact_if_new",
    "is_opted_out", "link_for_referral", "matches_between", "move_person",
    "open_callback_count", "open_callbacks", "open_crisis_callback", "open_link_for_person",
    "open_possible_matches", "outbox_key_taken", "people_by_id", "people_by_phone",
    "people_named", "person_for_identifier", "references_of_people", "search_people",
    "set_contact", "set_opt_out", "story_contacts",
]
