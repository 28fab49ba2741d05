"""/api/v1/imports/: the same imports as the pages, for scripts and integrations."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.importers.progress import Reporter
from crm.models import Client, ImportRun
from tests.crm.importers._files import INN_A, csv_cp1251, table_counts, xlsx
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/"
CLIENTS = csv_cp1251("Список контрагентов", "Код;Наименование;ИНН", "A-1;ООО «Апи»;", "A-2;Б;")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()  # progress of runs of earlier tests with the same ids


def post_file(http, data: bytes, name: str = "clients.csv", **fields):
    payload = {"kind": "clients", "file": SimpleUploadedFile(name, data), **fields}
    return http.post(URL, payload)


def test_upload_imports_at_once_and_answers_the_run(company, as_user, head_gleb):
    response = post_file(as_user(head_gleb), CLIENTS)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["Location"].endswith(f"{URL}{body['id']}/")
    assert (body["status"], body["is_finished"], body["rows_read"], body["created"]) == (
        "succeeded",
        True,
        2,
        2,
    )
    assert (body["encoding"], body["delimiter"], body["header_row"]) == ("cp1251", ";", 2)
    assert body["started_by"]["email"] == head_gleb.email and body["progress"] is None
    assert Client.objects.filter(external_id__in=["A-1", "A-2"]).count() == 2


def test_preview_then_confirm_or_cancel(company, as_user, head_gleb):
    http = as_user(head_gleb)
    body = post_file(http, CLIENTS, confirm="false").json()
    assert body["status"] == "pending" and not Client.objects.exists()
    preview = http.get(f"{URL}{body['id']}/preview/").json()
    assert (preview["encoding"], preview["header_row"], preview["error"]) == ("cp1251", 2, "")
    assert preview["columns"][0] == {"field": "external_id", "header": "Код"}
    assert preview["rows"][0] == {"row": 3, "external_id": "A-1", "name": "ООО «Апи»", "inn": ""}
    confirmed = http.post(f"{URL}{body['id']}/confirm/")
    assert confirmed.json()["status"] == "succeeded"
    assert http.post(f"{URL}{body['id']}/confirm/").status_code == 400  # not pending any more

    other = post_file(http, xlsx([["Код", "Наименование"], ["X-1", "Икс"]]), "c.xlsx", confirm="0")
    cancelled = http.post(f"{URL}{other.json()['id']}/cancel/")
    assert cancelled.json()["status"] == "rejected"
    assert not Client.objects.filter(external_id="X-1").exists()


def test_a_large_upload_is_queued_and_polled(
    company, as_user, head_gleb, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_MIN_BYTES = 10
    http = as_user(head_gleb)
    with django_capture_on_commit_callbacks() as callbacks:
        body = post_file(http, CLIENTS).json()
    assert (body["status"], body["is_finished"], body["progress"]) == ("queued", False, None)
    Reporter(body["id"]).report("checking", 2000, 0.25, force=True)
    polled = http.get(f"{URL}{body['id']}/").json()
    assert polled["progress"] == {"phase": "checking", "rows": 2000, "fraction": 0.25}
    callbacks[0]()
    done = http.get(f"{URL}{body['id']}/").json()
    assert (done["status"], done["created"], done["progress"]) == ("succeeded", 2, None)


def test_errors_and_bad_rows_come_as_csv(company, as_user, head_gleb, km_anna):
    ClientFactory(external_id="K-1", inn=INN_A, owner=km_anna)
    data = csv_cp1251(
        "Номер;Дата;Код контрагента;Артикул;Группа;Количество;Сумма",
        "РН-1;02.11.2026;K-1;A-1;Крепёж;1;100",
        "РН-2;02.11.2026;NOPE;A-1;Крепёж;1;100",
    )
    http = as_user(head_gleb)
    body = post_file(http, data, "s.csv", kind="shipments", skip_invalid="true").json()
    assert (body["status"], body["rejected"], body["bad_rows_available"]) == ("partial", 1, True)
    assert body["errors"] == [
        {
            "row": 3,
            "column": "Код контрагента",
            "value": "NOPE",
            "message": "No client has this code or INN.",
        }
    ]
    errors = http.get(f"{URL}{body['id']}/errors/")
    assert errors["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="import-' in errors["Content-Disposition"]
    assert errors.content.decode("utf-8").startswith("\ufeffRow;Column;Value;Problem\r\n3;")
    bad = http.get(f"{URL}{body['id']}/bad-rows/", HTTP_ACCEPT="text/csv")
    text = b"".join(bad.streaming_content).decode("utf-8")
    assert text.splitlines()[1].startswith("РН-2;02.11.2026;NOPE;")
    good = post_file(http, data.replace(b"NOPE", b"K-1"), "s2.csv", kind="shipments").json()
    assert http.get(f"{URL}{good['id']}/bad-rows/").status_code == 404


def test_an_unreadable_file_is_a_rejected_run(company, as_user, head_gleb):
    before = table_counts()
    body = post_file(as_user(head_gleb), b"%PDF-1.4", "scan.pdf").json()
    assert body["status"] == "rejected"
    assert body["errors"][0]["message"] == (
        "The file «scan.pdf» is a PDF document, not a table: upload a .csv or .xlsx file."
    )
    assert table_counts() == before


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"file": None}, "file", "No file was submitted."),
        ({"kind": "invoices"}, "kind", '"invoices" is not a valid choice.'),
        ({"sheet": "x" * 201}, "sheet", "Ensure this field has no more than 200 characters."),
    ],
)
def test_bad_input_is_a_400_naming_the_field(company, as_user, head_gleb, fields, field, message):
    payload = {"kind": "clients", "file": SimpleUploadedFile("c.csv", CLIENTS), **fields}
    response = as_user(head_gleb).post(URL, {k: v for k, v in payload.items() if v is not None})
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not ImportRun.objects.exists()


def test_too_large_a_file_in_the_users_language(company, as_user, head_gleb, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10
    response = post_file(as_user(head_gleb), CLIENTS)
    assert response.status_code == 400
    assert response.json()["file"][0].startswith(
        f"The file is {len(CLIENTS)}\xa0bytes; the largest file accepted is 10\xa0bytes:"
    )
    head_gleb.language = "ru"
    head_gleb.save()
    response = as_user(head_gleb).post(URL, {"kind": "clients"})
    assert response.json() == {"file": ["Ни одного файла не было отправлено."]}


def test_visibility_and_refusals(company, as_user, head_gleb, head_vera, admin_olga, km_anna):
    vera_run = post_file(as_user(head_vera), CLIENTS, confirm="false").json()
    gleb = as_user(head_gleb)
    assert gleb.get(URL).json()["count"] == 0
    for suffix in ("", "preview/", "errors/", "bad-rows/"):
        assert gleb.get(f"{URL}{vera_run['id']}/{suffix}").status_code == 404, suffix
    assert gleb.post(f"{URL}{vera_run['id']}/confirm/").status_code == 404
    admin = as_user(admin_olga)
    assert [run["id"] for run in admin.get(f"{URL}?status=pending").json()["results"]] == [
        vera_run["id"]
    ]
    assert admin.post(f"{URL}{vera_run['id']}/confirm/").status_code == 403  # not the uploader

    anna = as_user(km_anna)
    assert post_file(anna, CLIENTS).status_code == 403
    for suffix in ("", f"{vera_run['id']}/", f"{vera_run['id']}/errors/"):
        assert anna.get(f"{URL}{suffix}").status_code == 403, suffix
    assert anna.post(f"{URL}{vera_run['id']}/confirm/").status_code == 403
    assert ImportRun.objects.count() == 1 and not Client.objects.exists()


def test_list_in_bounded_queries(company, as_user, head_gleb, django_assert_max_num_queries):
    http = as_user(head_gleb)
    for number in range(15):
        ImportRun.objects.create(kind="clients", file_name=f"{number}.csv", started_by=head_gleb)
    with django_assert_max_num_queries(6):
        response = http.get(URL)
    assert response.json()["count"] == 15
