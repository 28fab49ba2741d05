"""The client card: contacts."""

from __future__ import annotations

from dataclasses import dataclass, field

from crm.models import Client, Contact


@dataclass
class OrgNode:
    contact: Contact
    reports: list[OrgNode] = field(default_factory=list)


def client_org_chart(*, client: Client) -> tuple[list[OrgNode], list[Contact]]:
    """The client's people as a tree by ``reports_to`` (one query), and the former ones.

    Active contacts form the tree; a contact whose boss has left or is not
    recorded sits at the top. Stored data that still holds a circle (from
    before the check existed) cannot hide anyone: whoever the walk from the
    top did not reach is put at the top level too.
    """
    contacts = list(client.contacts.order_by("full_name", "id"))
    active = {c.pk: c for c in contacts if c.is_active}
    former = [c for c in contacts if not c.is_active]
    nodes = {pk: OrgNode(contact) for pk, contact in active.items()}
    roots: list[OrgNode] = []
    for contact in active.values():
        boss = contact.reports_to_id
        if boss is None or boss not in nodes or boss == contact.pk:
            roots.append(nodes[contact.pk])
        else:
            nodes[boss].reports.append(nodes[contact.pk])
    reached: set[int] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node.contact.pk in reached:
            continue
        reached.add(node.contact.pk)
        stack.extend(node.reports)
    for pk in active:
        if pk not in reached:  # a circle in old data: break it at the first name
            node = nodes[pk]
            roots.append(node)
            stack = [node]
            while stack:
                current = stack.pop()
                if current.contact.pk in reached:
                    continue
                reached.add(current.contact.pk)
                current.reports = [r for r in current.reports if r.contact.pk not in reached]
                stack.extend(current.reports)
    roots.sort(key=lambda n: (n.contact.full_name, n.contact.pk))
    return roots, former
