"""Imported time -> the ledger's people (docs/language.md, "person", "accepted").

A tracker names who tracked a row (Toggl's Email and User columns); that name
is matched, in order, to a key of `people:` in textbill.yaml
(`people: {"jane@acme.example": jane, "Jane D.": jane}`), a person's `email`,
a person's id, a person's name (case-insensitive).  Rows whose tracker names
nobody (a timeclock file, a Toggl export without the columns) are by the
person given with `--as` (default TEXTBILL_USER), else by nobody: the
company's own time at the SOW's default rate.  In a ledger with people, a
named user who matches no person is an error (E309): importing their time at
the default rate would bill it wrongly without a word.  A ledger without any
`person` (and no `people:` mapping) ignores the trackers' users, as before.
"""
from __future__ import annotations

from dataclasses import replace

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic, closest, error
from textbill.workflow.importers import Imported


def people_mapping(config: m.Config) -> dict[str, str]:
    """`people:` of textbill.yaml: tracker user name or e-mail -> person id."""
    value = config.extra.get("people")
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def person_for(user: str, ledger: m.Ledger, mapping: dict[str, str]) -> str | None:
    """The person id a tracker's user name or e-mail stands for, or None."""
    if user in mapping:
        return mapping[user]
    low = user.strip().lower()
    for p in ledger.people.values():
        if (p.email and p.email.lower() == low) or p.id == low or p.name.lower() == low:
            return p.id
    return None


def assign_people(rows: list[Imported], ledger: m.Ledger, default: str | None
                  ) -> tuple[list[Imported], list[Diagnostic]]:
    """Each row with its person: from its tracker's user, else `default`."""
    mapping = people_mapping(ledger.config)
    out, diags, reported = [], [], set()
    # a ledger without people (or a mapping) does not track who worked: the tracker's users are ignored
    named = bool(ledger.people or mapping)
    for row in rows:
        person = None
        for user in row.users if named else ():
            person = person_for(user, ledger, mapping)
            if person is not None:
                break
        if person is None and row.users and named:
            user = row.users[0]
            if user not in reported:
                reported.add(user)
                guess = closest(user.split("@", 1)[0].lower(), ledger.people)
                diags.append(error(row.where, "E309", f"tracker user '{user}' is no person of the ledger",
                                   (f"did you mean '{guess}'? " if guess else "")
                                   + f"map it in textbill.yaml: people: {{\"{user}\": PERSON}}, or give the "
                                   "person this email"))
            continue
        if person is None:
            person = default
        if person is not None and person not in ledger.people and person not in reported:
            reported.add(person)
            diags.append(error(row.where, "E300", f"unknown person '{person}'",
                               f"did you mean '{closest(person, ledger.people)}'?"
                               if closest(person, ledger.people) else
                               f'define them with: person {person} "Full Name"'))
            continue
        out.append(replace(row, person=person))
    return out, diags

