"""Client card: validation on the field, constraints, history of every change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from crm import services
from crm.models import Client, Contact, OwnershipChange
from tests.factories import ClientFactory, ContactFactory, inn_with_checksum

pytestmark = pytest.mark.django_db

VALID_INN = inn_with_checksum("770000001")


def form_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "ООО «Новый»",
        "inn": VALID_INN,
        "kpp": "",
        "external_id": "K-NEW",
        "region": "Тверь",
        "industry": "",
        "sales_type": "mixed",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("inn", "message"),
    [
        ("12345", "An INN has 10 digits (a company) or 12 digits (a sole trader)."),
        ("77000000AB", "An INN consists of digits only."),
        (
            VALID_INN[:-1] + str((int(VALID_INN[-1]) + 1) % 10),
            "This INN has a wrong check digit: please check it for a typo.",
        ),
    ],
)
def test_bad_inn_is_refused_on_the_field_and_nothing_is_saved(
    company, as_user, km_anna, inn, message
):
    response = as_user(km_anna).post(reverse("crm:client_create"), form_data(inn=inn))
    assert response.status_code == 200
    assert response.context["form"].errors["inn"] == [message]
    assert not Client.objects.exists()


def test_bad_inn_message_is_translated(company, as_user, km_anna):
    km_anna.language = "ru"
    km_anna.save()
    response = as_user(km_anna).post(reverse("crm:client_create"), form_data(inn="12345"))
    assert response.context["form"].errors["inn"] == [
        "ИНН состоит из 10 цифр (организация) или 12 цифр (индивидуальный предприниматель)."
    ]


def test_bad_kpp_and_kpp_without_inn(company, as_user, km_anna):
    http = as_user(km_anna)
    response = http.post(reverse("crm:client_create"), form_data(kpp="12"))
    assert "kpp" in response.context["form"].errors
    response = http.post(reverse("crm:client_create"), form_data(inn="", kpp="770101001"))
    assert response.context["form"].errors["kpp"] == ["A KPP is only meaningful with an INN."]
    assert not Client.objects.exists()


def test_duplicate_external_id_is_refused_on_the_field(company, as_user, km_anna, anna_client):
    response = as_user(km_anna).post(
        reverse("crm:client_create"), form_data(external_id=anna_client.external_id)
    )
    assert response.context["form"].errors["external_id"] == [
        "A client with this external id already exists."
    ]
    assert Client.objects.count() == 1


def test_branches_share_an_inn_with_different_kpp(company, km_anna):
    services.client_create(
        acting_user=km_anna, name="Head office", inn=VALID_INN, kpp="770101001", external_id="A"
    )
    services.client_create(
        acting_user=km_anna, name="Branch", inn=VALID_INN, kpp="770102001", external_id="B"
    )
    with pytest.raises(ValidationError) as caught:
        services.client_create(
            acting_user=km_anna, name="Same", inn=VALID_INN, kpp="770102001", external_id="C"
        )
    assert caught.value.message_dict["inn"] == ["A client with this INN and KPP already exists."]
    assert Client.objects.count() == 2


def test_database_constraints_hold_without_the_forms(company, km_anna, anna_client):
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.create(name="x", owner=km_anna, external_id=anna_client.external_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.create(name="x", owner=km_anna, inn=anna_client.inn)
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.create(name="x", owner=km_anna, kpp="770101001")
    # Clients without external id or INN do not collide with each other.
    Client.objects.create(name="a", owner=km_anna)
    Client.objects.create(name="b", owner=km_anna)


def test_manager_cannot_pick_an_owner_and_head_cannot_pick_an_outsider(
    company, as_user, km_anna, head_gleb, outsider
):
    response = as_user(head_gleb).post(reverse("crm:client_create"), form_data(owner=outsider.pk))
    assert "Choose an owner from the list" in response.context["form"].errors["owner"][0]
    response = as_user(head_gleb).post(reverse("crm:client_create"), form_data(owner=999999))
    assert "owner" in response.context["form"].errors
    assert not Client.objects.exists()
    # A manager's form has no owner field: a posted owner is ignored.
    response = as_user(km_anna).post(reverse("crm:client_create"), form_data(owner=outsider.pk))
    assert response.status_code == 302
    assert Client.objects.get().owner == km_anna


def test_create_records_history_and_first_owner(company, as_user, head_gleb, km_boris):
    response = as_user(head_gleb).post(reverse("crm:client_create"), form_data(owner=km_boris.pk))
    assert response.status_code == 302
    client = Client.objects.get()
    assert client.owner == km_boris
    record = client.history.get()
    assert record.history_type == "+"
    assert record.history_user == head_gleb
    change = OwnershipChange.objects.get(client=client)
    assert (change.from_user, change.to_user, change.kind, change.changed_by) == (
        None,
        km_boris,
        "initial",
        head_gleb,
    )


def test_edit_keeps_old_and_new_values_in_history(company, as_user, km_anna, anna_client):
    http = as_user(km_anna)
    data = form_data(
        name="ООО «Анна и партнёры»",
        external_id=anna_client.external_id,
        inn=anna_client.inn,
        version=anna_client.version,
    )
    response = http.post(reverse("crm:client_edit", args=[anna_client.pk]), data)
    assert response.status_code == 302
    newest, older = anna_client.history.order_by("-history_id")[:2]
    delta = newest.diff_against(older)
    name_change = next(c for c in delta.changes if c.field == "name")
    assert (name_change.old, name_change.new) == ("ООО «Анна»", "ООО «Анна и партнёры»")
    assert newest.history_user == km_anna


def test_stale_edit_gets_a_conflict_naming_what_changed_since_it_was_loaded(
    company, as_user, km_anna, head_gleb, anna_client
):
    # A change made before the editor opened the form is what they saw: not a conflict.
    services.client_update(client=anna_client, acting_user=km_anna, phone="+7 900 000-00-01")
    anna_client.refresh_from_db()
    loaded = anna_client.version
    services.client_update(
        client=anna_client, acting_user=head_gleb, region="Казань", sales_type="strategic"
    )
    response = as_user(km_anna).post(
        reverse("crm:client_edit", args=[anna_client.pk]),
        form_data(
            name="Overwrite",
            external_id=anna_client.external_id,
            inn=anna_client.inn,
            version=loaded,
        ),
    )
    assert response.status_code == 200
    message = " ".join(response.context["form"].non_field_errors())
    assert message.startswith("Gleb Nowak changed this client while you were editing it: ")
    assert "region: Москва → Казань" in message
    assert "→ Strategic" in message
    assert "phone" not in message
    anna_client.refresh_from_db()
    assert (anna_client.name, anna_client.region) == ("ООО «Анна»", "Казань")


def test_an_edit_without_the_loaded_version_is_refused(company, as_user, km_anna, anna_client):
    response = as_user(km_anna).post(
        reverse("crm:client_edit", args=[anna_client.pk]),
        form_data(name="Overwrite", external_id=anna_client.external_id, inn=anna_client.inn),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["version"] == [
        "The form is missing the card's version: reload the card and edit again."
    ]
    anna_client.refresh_from_db()
    assert anna_client.name == "ООО «Анна»"


def test_reassignment_is_for_heads_and_is_recorded(
    company, km_anna, km_boris, head_gleb, anna_client
):
    with pytest.raises(PermissionDenied):
        services.client_reassign(client=anna_client, new_owner=km_anna, acting_user=km_boris)
    services.client_reassign(
        client=anna_client, new_owner=km_boris, acting_user=head_gleb, note="Vacation cover"
    )
    anna_client.refresh_from_db()
    assert anna_client.owner == km_boris
    change = anna_client.ownership_changes.get(kind="reassignment")
    assert (change.from_user, change.to_user, change.changed_by, change.note) == (
        km_anna,
        km_boris,
        head_gleb,
        "Vacation cover",
    )
    record = anna_client.history.latest("history_id")
    assert record.history_user == head_gleb
    assert record.prev_record is not None and record.prev_record.owner_id == km_anna.pk


def test_book_transfer_moves_every_client_with_history_in_bulk(
    company, km_anna, km_boris, admin_olga, outsider
):
    from accounts.services import user_deactivate
    from crm.models import Task

    book = ClientFactory.create_batch(5, owner=km_anna)
    Task.objects.create(
        title="Call", due_on="2030-01-01", assignee=km_anna, created_by=km_anna, client=book[0]
    )
    with pytest.raises(ValidationError):
        user_deactivate(user=km_anna, successor=km_anna, acting_user=admin_olga)
    with pytest.raises(PermissionDenied):
        user_deactivate(user=km_anna, successor=km_boris, acting_user=outsider)
    moved = user_deactivate(user=km_anna, successor=km_boris, acting_user=admin_olga)
    assert moved == 5
    km_anna.refresh_from_db()
    assert not km_anna.is_active
    for client in book:
        client.refresh_from_db()
        assert client.owner == km_boris
        latest = client.history.latest("history_id")
        assert latest.history_user == admin_olga
        assert latest.prev_record.owner_id == km_anna.pk
        assert client.ownership_changes.filter(kind="book_transfer", from_user=km_anna).exists()
    task = Task.objects.get()
    assert task.assignee == km_boris
    assert task.history.latest("history_id").history_user == admin_olga


def test_contact_reporting_lines_cannot_form_a_circle(company, km_anna, anna_client, boris_client):
    boss = ContactFactory(client=anna_client, full_name="Boss")
    deputy = ContactFactory(client=anna_client, full_name="Deputy", reports_to=boss)
    boss.reports_to = deputy
    with pytest.raises(ValidationError) as caught:
        services.contact_save(contact=boss, acting_user=km_anna)
    assert caught.value.message_dict["reports_to"] == [
        "This would make the reporting lines a circle."
    ]
    stranger = ContactFactory(client=boris_client)
    deputy.reports_to = stranger
    with pytest.raises(ValidationError):
        services.contact_save(contact=deputy, acting_user=km_anna)
    assert Contact.objects.get(pk=boss.pk).reports_to is None


def test_contact_history_is_kept(company, as_user, km_anna, anna_client):
    response = as_user(km_anna).post(
        reverse("crm:contact_create", args=[anna_client.pk]),
        {
            "full_name": "Мария Петрова",
            "decision_role": "decision_maker",
            "attitude": "neutral",
            "influence": 3,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    contact = anna_client.contacts.get()
    assert contact.history.get().history_user == km_anna


def test_client_pages_keep_a_bounded_number_of_queries(
    company, as_user, km_anna, django_assert_max_num_queries
):
    clients = ClientFactory.create_batch(30, owner=km_anna)
    for client in clients[:5]:
        ContactFactory.create_batch(3, client=client)
    http = as_user(km_anna)
    with django_assert_max_num_queries(12):
        assert http.get(reverse("crm:client_list")).status_code == 200
    with django_assert_max_num_queries(25):
        assert http.get(reverse("crm:client_detail", args=[clients[0].pk])).status_code == 200
    with django_assert_max_num_queries(14):
        assert http.get(reverse("home")).status_code == 200


def test_list_page_answers_htmx_with_rows_only(company, as_user, km_anna, anna_client):
    response = as_user(km_anna).get(
        reverse("crm:client_list"), {"q": "Анна"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert anna_client.name in body
    assert "<html" not in body


def test_money_is_formatted_for_the_locale():
    from django.utils import translation

    from crm.templatetags.money import money

    with translation.override("en"):
        assert money("1234567.5") == "1,234,568\u00a0₽"
        assert money(Decimal("-9876543.215"), 2) == "-9,876,543.22\u00a0₽"
        assert money(-0.4) == "0\u00a0₽"  # never "-0"
        assert money(999) == "999\u00a0₽"
    with translation.override("ru"):
        assert money("1234567.5") == "1\u00a0234\u00a0568\u00a0₽"
        assert money(Decimal("-9876543.215"), 2) == "-9\u00a0876\u00a0543,22\u00a0₽"
        assert money(1000.05, 1) == "1\u00a0000,1\u00a0₽"
    assert money(None) == "—"
    assert money(Decimal("NaN")) == "—"
    assert money("n/a") == "n/a"


def test_home_page_shows_the_panels_of_each_role(
    company, as_user, tm_ira, kam_oleg, key_account, head_gleb, anna_client
):
    from crm.models import WalletEstimate

    ClientFactory(owner=tm_ira, conveyor_stage="lead")
    ClientFactory(owner=tm_ira, conveyor_stage="account")
    WalletEstimate.objects.create(client=anna_client, kind="wallet", year=2026, amount=10)
    ira_home = as_user(tm_ira).get(reverse("home"))
    panels = {p.title: p.count for p in ira_home.context["panels"]}
    assert panels == {"Leads to qualify": 1}
    oleg_panels = {p.title: p for p in as_user(kam_oleg).get(reverse("home")).context["panels"]}
    assert oleg_panels["My key accounts"].count == 1
    listing = as_user(kam_oleg).get(oleg_panels["My key accounts"].url)
    assert [c.pk for c in listing.context["page"].object_list] == [key_account.pk]
    gleb_panels = {
        p.title: p.count for p in as_user(head_gleb).get(reverse("home")).context["panels"]
    }
    assert gleb_panels["Estimates to verify"] == 1


def test_a_managers_tiles_count_her_own_live_clients_by_stage(company, as_user, km_anna, km_boris):
    survivor = ClientFactory(owner=km_anna, conveyor_stage="account")
    ClientFactory(owner=km_anna, conveyor_stage="account")
    ClientFactory(owner=km_anna, conveyor_stage="lead")
    ClientFactory(owner=km_anna, conveyor_stage="account", merged_into=survivor)  # merged: gone
    ClientFactory(owner=km_boris, conveyor_stage="account")  # another's book
    home = as_user(km_anna).get(reverse("home")).context
    panels = {p.title: p.count for p in home["panels"]}
    assert panels["Accounts I serve"] == 2
    assert home["my_clients_count"] == 3


def test_head_reassigns_from_the_card_and_the_change_is_kept(
    company, as_user, head_gleb, km_anna, km_boris, outsider, anna_client
):
    http = as_user(head_gleb)
    card = http.get(reverse("crm:client_detail", args=[anna_client.pk]))
    url = reverse("crm:client_reassign", args=[anna_client.pk])
    assert card.context["can_reassign"] is True
    assert f'hx-get="{url}"' in card.content.decode()
    dialog = http.get(url, headers={"HX-Request": "true"})
    assert "<dialog" in dialog.content.decode()
    choices = {str(pk) for pk, _label in dialog.context["form"].fields["new_owner"].choices if pk}
    assert str(km_boris.pk) in choices and str(outsider.pk) not in choices
    refused = http.post(url, {"new_owner": outsider.pk})
    assert refused.status_code == 200
    assert "Choose an owner from the list" in refused.content.decode()
    anna_client.refresh_from_db()
    assert anna_client.owner == km_anna
    http.post(url, {"new_owner": km_boris.pk, "note": "Anna is on leave"})
    anna_client.refresh_from_db()
    assert anna_client.owner == km_boris
    assert anna_client.ownership_changes.filter(
        kind="reassignment", note="Anna is on leave"
    ).exists()


def test_managers_cannot_reassign(company, as_user, km_anna, km_boris, anna_client):
    http = as_user(km_anna)
    url = reverse("crm:client_reassign", args=[anna_client.pk])
    card = http.get(reverse("crm:client_detail", args=[anna_client.pk]))
    assert card.context["can_reassign"] is False
    assert url not in card.content.decode()
    assert http.get(url).status_code == 403
    response = http.post(
        reverse("crm:client_reassign", args=[anna_client.pk]), {"new_owner": km_boris.pk}
    )
    assert response.status_code == 403
    anna_client.refresh_from_db()
    assert anna_client.owner == km_anna


def test_the_holding_is_named_on_the_edit_form_by_its_inn_or_erp_code(
    company, as_user, km_anna, boris_client, anna_client
):
    holding = ClientFactory(
        name="Holding", owner=km_anna, inn=inn_with_checksum("770000002"), external_id="H-1"
    )
    member = ClientFactory(name="Member", owner=km_anna, parent=holding)
    http = as_user(km_anna)
    url = reverse("crm:client_edit", args=[anna_client.pk])

    def save(holding_code):
        anna_client.refresh_from_db()
        data = form_data(
            name=anna_client.name,
            external_id=anna_client.external_id,
            inn=anna_client.inn,
            region=anna_client.region,
            version=anna_client.version,
            holding=holding_code,
        )
        return http.post(url, data)

    assert save(holding.inn).status_code == 302
    anna_client.refresh_from_db()
    assert anna_client.parent == holding
    assert anna_client.history.latest("history_id").prev_record.parent_id is None
    assert http.get(url).context["form"]["holding"].value() == holding.inn
    refusals = {
        "": None,  # clears it
        "H-1": None,
        "000": "No client you can see has this INN or ERP code.",
        boris_client.external_id: "No client you can see has this INN or ERP code.",
        anna_client.external_id: "A client cannot be its own holding.",
        member.external_id: "Member belongs to a holding itself: choose the holding at the top.",
    }
    for code, message in refusals.items():
        response = save(code)
        anna_client.refresh_from_db()
        if message is None:
            assert response.status_code == 302, code
            assert anna_client.parent == (holding if code else None), code
        else:
            assert response.status_code == 200, code
            assert response.context["form"].errors["holding"] == [message], code
            assert anna_client.parent == holding, code
