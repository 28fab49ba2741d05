"""Actions of the client list: saved filters (page and API), a task for a selection,
CSV and XLSX exports (page and API), each within the user's scope."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import SavedClientFilter
from crm.models import ClientGrant, Task
from crm.services import client_list as list_services
from tests.crm import test_client_list as listing
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

LIST = "/clients/"
book = listing.book  # the data set of the list's tests, a fixture here too


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# ------------------------------------------------------------ saved filters


def test_save_apply_and_delete_a_filter_on_the_page(book, as_user, km_anna):
    http = as_user(km_anna)
    response = http.post(
        reverse("crm:saved_filter_create"),
        {"name": "  Sleeping B  ", "query": "segment=B&status=sleeping&page=3&junk=1&q="},
    )
    assert response.status_code == 302
    assert response["Location"] == LIST + "?segment=B&status=sleeping"
    saved = SavedClientFilter.objects.get(user=km_anna)
    assert (saved.name, saved.query) == ("Sleeping B", "segment=B&status=sleeping")
    page = http.get(LIST).content.decode()
    assert 'href="/clients/?segment=B&amp;status=sleeping"' in page and "Sleeping B" in page
    applied = http.get(LIST + "?" + saved.query).content.decode()
    assert "Бета" in applied and "Альфа" not in applied
    gone = http.post(reverse("crm:saved_filter_delete", args=[saved.pk]))
    assert gone.status_code == 302
    assert not SavedClientFilter.objects.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the filter a name."),
        ("   ", "Give the filter a name."),
        ("x" * 101, "A name may have at most 100 characters (it has 101)."),
        ("my A clients", "You already have a saved filter with this name."),
    ],
)
def test_a_bad_name_is_a_message_on_the_field(book, as_user, km_anna, name, message):
    SavedClientFilter.objects.create(user=km_anna, name="My A clients", query="segment=A")
    response = as_user(km_anna).post(
        reverse("crm:saved_filter_create"), {"name": name, "query": "segment=B"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_name-error"' in body and message in body.replace("&#x27;", "'")
    assert "Бета" in body and "Альфа" not in body  # the list is still filtered
    assert SavedClientFilter.objects.count() == 1


def test_an_invalid_query_is_refused_and_another_users_filter_is_404(
    book, as_user, km_anna, km_boris
):
    http = as_user(km_anna)
    bad = http.post(reverse("crm:saved_filter_create"), {"name": "Bad", "query": "segment=Z"})
    assert bad.status_code == 400 and "This filter is not valid" in bad.content.decode()
    borises = SavedClientFilter.objects.create(user=km_boris, name="Mine", query="segment=C")
    assert http.post(reverse("crm:saved_filter_delete", args=[borises.pk])).status_code == 404
    assert "Mine" not in http.get(LIST).content.decode()
    assert SavedClientFilter.objects.filter(pk=borises.pk).exists()


def test_a_saved_filter_shows_only_the_clients_in_scope(book, as_user, km_anna, outsider):
    # The outsider saves "segment A": it lists their own A client, never Anna's.
    http = as_user(outsider)
    http.post(reverse("crm:saved_filter_create"), {"name": "A", "query": "segment=A"})
    saved = SavedClientFilter.objects.get(user=outsider)
    body = http.get(LIST + "?" + saved.query).content.decode()
    assert "Чужой" in body and "Альфа" not in body
    api = http.get("/api/v1/saved-filters/").json()
    assert [row["name"] for row in api] == ["A"]
    clients = http.get(api[0]["clients_url"]).json()
    assert [row["name"] for row in clients["results"]] == ["Чужой"]


def test_saved_filters_api_crud_and_validation(book, as_user, km_anna, km_boris):
    http = as_user(km_anna)
    url = "/api/v1/saved-filters/"
    created = http.post(
        url, {"name": "Dominant", "query": "share_band=dominant"}, "application/json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["query"] == "share_band=dominant"
    assert body["page_url"].endswith("/clients/?share_band=dominant")
    duplicate = http.post(url, {"name": "dominant", "query": ""}, "application/json")
    assert duplicate.status_code == 400
    assert duplicate.json() == {"name": ["You already have a saved filter with this name."]}
    empty = http.post(url, {"name": " ", "query": ""}, "application/json")
    assert empty.status_code == 400 and "name" in empty.json()
    bad = http.post(url, {"name": "Bad", "query": "ordering=password"}, "application/json")
    assert bad.status_code == 400 and "query" in bad.json()
    borises = SavedClientFilter.objects.create(user=km_boris, name="B", query="")
    assert http.get(f"{url}{borises.pk}/").status_code == 404
    assert http.delete(f"{url}{borises.pk}/").status_code == 404
    assert [row["name"] for row in http.get(url).json()] == ["Dominant"]
    assert http.delete(f"{url}{body['id']}/").status_code == 204
    assert list(SavedClientFilter.objects.values_list("name", flat=True)) == ["B"]


# ---------------------------------------------------------------- bulk task


def due(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def test_the_task_form_for_a_selection_comes_in_a_dialog(book, as_user, km_anna):
    ids = [book["Альфа"].pk, book["Бета"].pk]
    response = as_user(km_anna).post(
        reverse("crm:client_bulk_task"), {"ids": ids, "query": ""}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "<dialog" in body and "A task for each of 2 clients" in body
    assert body.count('name="ids"') == 2


def test_a_task_for_each_selected_client_the_user_may_change(book, as_user, km_anna, km_boris):
    read_only = ClientFactory(name="Только чтение", owner=km_boris)
    ClientGrant.objects.create(client=read_only, user=km_anna, reason="support", level="read")
    foreign = book["Чужой"]
    http = as_user(km_anna)
    response = http.post(
        reverse("crm:client_bulk_task"),
        {
            "ids": [book["Альфа"].pk, book["Бета"].pk, read_only.pk, foreign.pk],
            "query": "",
            "title": "Call about the autumn order",
            "kind": "touch",
            "due_on": due(3),
            "to_owners": "",
        },
    )
    assert response.status_code == 302
    tasks = Task.objects.order_by("client__name")
    assert [(t.client.name, t.assignee, t.due_on.isoformat()) for t in tasks] == [
        ("Альфа", km_anna, due(3)),
        ("Бета", km_anna, due(3)),
    ]
    shown = " ".join(messages_of(response))
    assert "Task created for 2 clients." in shown
    assert "you may not change: Только чтение" in shown
    assert "Чужой" not in shown  # out of scope: not even named


def test_a_head_gives_the_tasks_to_each_owner_and_past_dates_are_refused(
    book, as_user, head_gleb, km_anna, km_boris
):
    http = as_user(head_gleb)
    data = {
        "all": "1",
        "query": "segment=C",
        "title": "Visit",
        "kind": "touch",
        "due_on": due(-1),
        "to_owners": "1",
    }
    refused = http.post(reverse("crm:client_bulk_task"), data)
    assert refused.status_code == 400
    assert "The due date cannot be in the past." in refused.content.decode()
    assert not Task.objects.exists()
    in_dialog = http.post(reverse("crm:client_bulk_task"), data, HTTP_HX_REQUEST="true")
    assert in_dialog.status_code == 200 and "<dialog" in in_dialog.content.decode()
    assert "The due date cannot be in the past." in in_dialog.content.decode()
    done = http.post(reverse("crm:client_bulk_task"), {**data, "query": "", "due_on": due(0)})
    assert done.status_code == 302
    owners = {(t.client.name, t.assignee) for t in Task.objects.all()}
    expected = {(n, c.owner) for n, c in book.items() if c.owner in (km_anna, km_boris)}
    assert owners == expected


def test_all_matching_is_capped_with_a_message(book, as_user, km_anna, monkeypatch):
    monkeypatch.setattr(list_services, "BULK_TASK_MAX", 2)
    response = as_user(km_anna).post(
        reverse("crm:client_bulk_task"),
        {"all": "1", "query": "", "title": "T", "kind": "touch", "due_on": due(1)},
    )
    assert response.status_code == 302
    assert "a task can be given for at most 2 at once" in " ".join(messages_of(response))
    assert not Task.objects.exists()


# ------------------------------------------------------------------ exports


def read_csv(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_export_of_the_selection_with_the_visible_columns(book, as_user, km_anna):
    km_anna.client_list_columns = ["segment", "revenue_12m", "yoy_growth", "region"]
    km_anna.save()
    danger = ClientFactory(name='=HYPERLINK("http://x")', owner=km_anna, region="+7 region")
    http = as_user(km_anna)
    response = http.post(
        reverse("crm:client_export", args=["csv"]),
        {"ids": [book["Альфа"].pk, book["Бета"].pk, danger.pk, book["Чужой"].pk],
         "query": "ordering=-revenue_12m"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = read_csv(response)
    assert rows[0] == ["Name", "Segment", "Region", "Revenue, 12 months", "Growth YoY"]
    assert rows[1:] == [
        ["Альфа", "A", "Kazan", "500000", "0.1"],
        ["Бета", "B", "Москва", "100000", "-0.2"],  # a number, not neutralised
        ['\'=HYPERLINK("http://x")', "", "'+7 region", "", ""],
    ]


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_every_formula_start_is_neutralised(company, as_user, km_anna, start):
    ClientFactory(name=f"{start}cmd|' /C calc'!A0", owner=km_anna)
    response = as_user(km_anna).get(reverse("crm:client_export", args=["csv"]))
    assert read_csv(response)[1][0] == f"'{start}cmd|' /C calc'!A0"


def test_xlsx_export_opens_and_holds_all_matching_rows_in_order(book, as_user, head_gleb):
    head_gleb.client_list_columns = ["owner", "revenue_12m", "share_of_wallet"]
    head_gleb.save()
    response = as_user(head_gleb).get(
        reverse("crm:client_export", args=["xlsx"]), {"ordering": "-revenue_12m"}
    )
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    assert rows[0] == ["Name", "Owner", "Revenue, 12 months", "Share of wallet"]
    names = [row[0] for row in rows[1:]]
    listed = [r["name"] for r in as_user(head_gleb).get(
        "/api/v1/clients/", {"ordering": "-revenue_12m"}).json()["results"]]  # fmt: skip
    assert names == listed and "Чужой" not in names
    alpha = rows[1 + names.index("Альфа")]
    assert alpha[1] == "Anna Kim" and alpha[2] == 500000 and alpha[3] == 0.25


def test_an_export_of_nothing_selected_says_so(book, as_user, km_anna):
    response = as_user(km_anna).post(
        reverse("crm:client_export", args=["csv"]), {"query": "segment=A"}
    )
    assert response.status_code == 302 and response["Location"] == LIST + "?segment=A"
    assert "Choose at least one client" in " ".join(messages_of(response))


def test_export_over_the_cap_says_so(book, as_user, km_anna, settings):
    settings.CLIENT_EXPORT_MAX_ROWS = 2
    http = as_user(km_anna)
    response = http.get(reverse("crm:client_export", args=["csv"]), {"segment": "B"})
    assert response.status_code == 200  # one client: under the cap
    too_many = http.post(reverse("crm:client_export", args=["xlsx"]), {"all": "1", "query": ""})
    assert too_many.status_code == 302
    assert too_many["Location"] == LIST
    assert "one export holds at most 2" in " ".join(messages_of(too_many))
    api = http.get("/api/v1/clients/export.csv")
    assert api.status_code == 400
    assert "one export holds at most 2" in api.json()["detail"][0]


def test_api_exports_follow_the_filters_and_the_scope(book, as_user, km_anna, outsider):
    http = as_user(km_anna)
    response = http.get("/api/v1/clients/export.csv", {"ordering": "-revenue_12m"})
    assert response.status_code == 200
    names = [row[0] for row in read_csv(response)[1:]]
    assert names == ["Альфа", "Бета", "Холдинг", "Гамма", "Свежий"]
    xlsx = http.get("/api/v1/clients/export.xlsx", {"segment": "A"})
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Альфа"]
    assert http.get("/api/v1/clients/export.csv", {"segment": "Z"}).status_code == 400
    theirs = as_user(outsider).get("/api/v1/clients/export.csv")
    assert [row[0] for row in read_csv(theirs)[1:]] == ["Чужая дочка", "Чужой"]
