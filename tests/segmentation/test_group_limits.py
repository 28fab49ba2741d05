"""Share threshold and band limits per product group (domain.md "Segments").

A rule set may give a product group its own share threshold and band limits;
the engine bands that group's rows by them and marks its high-share rows,
while a client's segment stays on the overall share and threshold. Heads set
them on the rules page or through the API; bad input is refused on its field,
naming the group, and saves no version.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from crm.choices import ShareBand
from segmentation import forms as rule_forms
from segmentation.models import ClientGroupShare, MetricRun, SegmentRuleSet
from segmentation.models import rules as rule_model
from segmentation.services import metrics_recompute, segment_rule_set_save
from tests.factories import ClientFactory, ProductFactory, ProductGroupFactory
from tests.segmentation._data import D, day, line, run, snap, wallet
from tests.segmentation.test_rule_pages import form_data as rule_page_data

pytestmark = pytest.mark.django_db

RULES = reverse("segmentation:rules")
EDIT = reverse("segmentation:rules_edit")
API = "/api/v1/segment-rule-sets/"

# The standard bands (settings.SHARE_BAND_LIMITS) and the seeded share threshold.
STANDARD = (Decimal("0.01"), Decimal("0.10"), Decimal("0.50"))
OVERALL_THRESHOLD = Decimal("0.10")
# Fasteners' own limits and threshold in the golden test.
OWN = (Decimal("0.02"), Decimal("0.20"), Decimal("0.60"))
OWN_THRESHOLD = Decimal("0.15")
GROUP_WALLET = 10_000


def expected_band(share: Decimal | None, limits: tuple[Decimal, Decimal, Decimal]) -> str:
    """domain.md: indifference < secondary from ≤ secondary < main from ≤ main < dominant from
    ≤ dominant; a share equal to a limit is in the upper band; empty without a share."""
    if share is None:
        return ""
    secondary, main, dominant = limits
    if share >= dominant:
        return ShareBand.DOMINANT
    if share >= main:
        return ShareBand.MAIN
    if share >= secondary:
        return ShareBand.SECONDARY
    return ShareBand.INDIFFERENCE


def form_data(**overrides: str) -> dict[str, str]:
    """What the edit page posts when nothing is touched, with this file's reason."""
    return rule_page_data(**{"comment": "Own limits for fasteners", **overrides})


def post_json(http, data):
    return http.post(API, data, content_type="application/json")


@pytest.fixture
def fasteners():
    return ProductGroupFactory(name="Fasteners")


@pytest.fixture
def paint():
    return ProductGroupFactory(name="Paint")


def save_limits(head, group_limits, **changes) -> SegmentRuleSet:
    return segment_rule_set_save(
        changes={"group_limits": group_limits, **changes}, acting_user=head, comment="limits"
    )


# ------------------------------------------------------------------ the engine


# Group revenues against a group wallet of 10 000: shares on and just below
# every limit, own and standard.
BOUNDARY_REVENUES = [150, 199, 200, 999, 1000, 1499, 1500, 1999, 2000, 4999, 5000, 5999, 6000]


def test_group_rows_are_banded_and_flagged_by_the_groups_own_limits(head_vera, fasteners, paint):
    save_limits(
        head_vera,
        {
            str(fasteners.pk): {
                "share_threshold": str(OWN_THRESHOLD),
                "band_limits": [str(limit) for limit in OWN],
            }
        },
    )
    in_fasteners, in_paint = ProductFactory(group=fasteners), ProductFactory(group=paint)
    clients = {}
    for revenue in BOUNDARY_REVENUES:
        client = ClientFactory()
        line(client, day(-10), revenue, product=in_fasteners)
        line(client, day(-12), revenue, product=in_paint)
        wallet(client, GROUP_WALLET, group=fasteners)
        wallet(client, GROUP_WALLET, group=paint)
        clients[revenue] = client
    no_wallet = ClientFactory()
    line(no_wallet, day(-10), 5000, product=in_fasteners)

    r = run()
    rows = {(row.client_id, row.product_group_id): row for row in r.group_shares.all()}
    differs = {"band": 0, "high": 0}
    for revenue, client in clients.items():
        share = Decimal(revenue) / Decimal(GROUP_WALLET)
        own, standard = rows[client.pk, fasteners.pk], rows[client.pk, paint.pk]
        assert own.share_of_wallet == share == standard.share_of_wallet
        assert own.share_band == expected_band(share, OWN), revenue
        assert own.high_share is (share >= OWN_THRESHOLD), revenue
        assert standard.share_band == expected_band(share, STANDARD), revenue
        assert standard.high_share is (share >= OVERALL_THRESHOLD), revenue
        differs["band"] += expected_band(share, OWN) != expected_band(share, STANDARD)
        differs["high"] += (share >= OWN_THRESHOLD) != (share >= OVERALL_THRESHOLD)
    # The data set really tells the two rule sets apart.
    assert differs["band"] >= 4 and differs["high"] >= 2
    # A few spelled out: on a limit is the upper band.
    assert rows[clients[200].pk, fasteners.pk].share_band == "secondary"  # 0.02 = own from
    assert rows[clients[199].pk, fasteners.pk].share_band == "indifference"
    assert rows[clients[1000].pk, paint.pk].share_band == "main"  # 0.10 = standard from
    assert rows[clients[1000].pk, fasteners.pk].share_band == "secondary"
    assert rows[clients[6000].pk, fasteners.pk].share_band == "dominant"  # 0.60
    assert rows[clients[5999].pk, fasteners.pk].share_band == "main"
    assert rows[clients[1500].pk, fasteners.pk].high_share is True  # 0.15 = own threshold
    assert rows[clients[1499].pk, fasteners.pk].high_share is False
    # Without a group wallet: no share, no band, not high.
    orphan = rows[no_wallet.pk, fasteners.pk]
    assert (orphan.share_of_wallet, orphan.share_band, orphan.high_share) == (None, "", False)

    # An incremental run (after an import) recomputes a client on the base run's
    # rules and gets the same rows, written over the client's rows in the base run;
    # the other clients' rows stay.
    again = metrics_recompute(as_of=D, client_ids=[clients[1000].pk], trigger="import")
    assert again.status == "succeeded", again.error
    assert again.base_run == r and not again.group_shares.exists()
    updated = {(row.client_id, row.product_group_id): row for row in r.group_shares.all()}
    assert updated.keys() == rows.keys()
    for key, row in rows.items():
        assert (updated[key].share_band, updated[key].high_share) == (
            row.share_band,
            row.high_share,
        )
    assert updated[clients[1000].pk, paint.pk].pk != rows[clients[1000].pk, paint.pk].pk


def test_the_client_segment_stays_on_the_overall_share_and_threshold(head_vera, fasteners, paint):
    # Every rated client has high potential (amount 0), so A/B is the share axis alone.
    save_limits(
        head_vera,
        {
            str(fasteners.pk): {"share_threshold": "0.5"},
            str(paint.pk): {"share_threshold": "0.01", "band_limits": ["0.3", "0.4", "0.9"]},
        },
        potential_mode="amount",
        potential_value=Decimal(0),
    )
    in_fasteners, in_paint = ProductFactory(group=fasteners), ProductFactory(group=paint)
    # Overall 1 200 / 10 000 = 0.12 ≥ 0.10 while fasteners' 0.12 < its own 0.5.
    high_overall = ClientFactory()
    line(high_overall, day(-5), 1200, product=in_fasteners)
    wallet(high_overall, 10_000)
    wallet(high_overall, 10_000, group=fasteners)
    # Overall 500 / 10 000 = 0.05 < 0.10 while paint's 0.05 ≥ its own 0.01.
    low_overall = ClientFactory()
    line(low_overall, day(-5), 500, product=in_paint)
    wallet(low_overall, 10_000)
    wallet(low_overall, 10_000, group=paint)

    r = run()
    high, low = snap(r, high_overall), snap(r, low_overall)
    assert (high.share_of_wallet, high.segment, high.share_band) == (
        Decimal("0.12"),
        "A",
        expected_band(Decimal("0.12"), STANDARD),
    )
    assert (low.share_of_wallet, low.segment, low.share_band) == (
        Decimal("0.05"),
        "B",
        expected_band(Decimal("0.05"), STANDARD),  # the overall band keeps the standard limits
    )
    high_row = ClientGroupShare.objects.get(run=r, client=high_overall)
    low_row = ClientGroupShare.objects.get(run=r, client=low_overall)
    assert high_row.high_share is False
    assert (low_row.high_share, low_row.share_band) == (True, "indifference")  # 0.05 < 0.3


# ------------------------------------------------------------------ the rules page


def test_saving_group_limits_makes_a_version_with_history_and_recomputes(
    company, as_user, km_anna, head_vera, fasteners, paint, django_capture_on_commit_callbacks
):
    client = ClientFactory(owner=km_anna)
    line(client, day(-10), 1000, product=ProductFactory(group=fasteners))
    run(D)
    g = fasteners.pk
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = as_user(head_vera).post(
            EDIT,
            form_data(**{f"group_{g}_share": "15", f"group_{g}_main": "20"}),
        )
    assert response.status_code == 302, response.context["form"].errors
    assert len(callbacks) == 1  # the recompute on the new rules
    new = SegmentRuleSet.objects.active()
    assert (new.version, new.created_by, new.comment) == (2, head_vera, "Own limits for fasteners")
    # An empty limit beside a filled one keeps its standard value.
    assert new.group_limits == {
        str(g): {
            "name": "Fasteners",
            "share_threshold": "0.15",
            "band_limits": ["0.01", "0.2", "0.5"],
        }
    }
    assert SegmentRuleSet.objects.get(version=1).group_limits == {}
    rerun = MetricRun.objects.order_by("-id").first()
    assert (rerun.rule_set, rerun.status) == (new, "succeeded")

    page = as_user(km_anna).get(RULES).content.decode()
    assert "Own limits for fasteners" in page
    now = "Fasteners: high share from 15 %, bands from 1 % / 20 % / 50 %"
    assert f"Share limits per product group:</span> <del>—</del> → <ins>{now}</ins>" in page

    # The edit page shows the stored values in per cent; the same values again change nothing.
    edit = as_user(head_vera).get(EDIT).content.decode()
    assert f'name="group_{g}_share" value="15"' in edit
    assert f'name="group_{g}_main" value="20"' in edit
    same = as_user(head_vera).post(EDIT, form_data())
    assert str(rule_forms.NOTHING_CHANGED) in same.context["form"].errors["__all__"]

    # Emptying the row removes the group's limits: a version whose history says so.
    cleared = form_data(
        **{
            f"group_{g}_share": "",
            f"group_{g}_secondary": "",
            f"group_{g}_main": "",
            f"group_{g}_dominant": "",
        }
    )
    cleared["comment"] = "Back to the defaults"
    assert as_user(head_vera).post(EDIT, cleared).status_code == 302
    latest = SegmentRuleSet.objects.active()
    assert (latest.version, latest.group_limits) == (3, {})
    page = as_user(km_anna).get(RULES).content.decode()
    assert f"Share limits per product group:</span> <del>{now}</del> → <ins>—</ins>" in page


def _bad_group_input(g: int) -> list[tuple[dict[str, str], str, str]]:
    """(posted changes, the field the message is on, the message) for the group ``g``."""
    name = {"group": "Fasteners"}
    share, secondary = f"group_{g}_share", f"group_{g}_secondary"
    main, dominant = f"group_{g}_main", f"group_{g}_dominant"
    threshold_range = str(rule_forms.GROUP_THRESHOLD_PERCENT_RANGE % name)
    limit_range = str(rule_forms.GROUP_LIMIT_PERCENT_RANGE % name)
    rising = str(rule_model.GROUP_LIMITS_ASCENDING % name)
    return [
        ({share: "0"}, share, threshold_range),
        ({share: "100.5"}, share, threshold_range),
        ({share: "-3"}, share, threshold_range),
        ({share: "ten"}, share, str(rule_forms.GROUP_PERCENT_INVALID % name)),
        ({main: "12.345"}, main, str(rule_forms.GROUP_PERCENT_PLACES % name)),
        ({dominant: "0"}, dominant, limit_range),
        ({secondary: "101"}, secondary, limit_range),
        ({secondary: "5", main: "5", dominant: "50"}, main, rising),  # equal is not rising
        ({secondary: "5", main: "30", dominant: "20"}, dominant, rising),
        ({dominant: "8"}, dominant, rising),  # below the standard main from (10 %)
        ({secondary: "20"}, secondary, rising),  # above the standard main from (10 %)
    ]


@pytest.mark.parametrize("case", range(11))
def test_bad_group_limits_are_refused_on_their_field_and_save_nothing(
    company, as_user, head_vera, fasteners, paint, case
):
    changes, field, message = _bad_group_input(fasteners.pk)[case]
    assert "Fasteners" in message  # the message names the group
    response = as_user(head_vera).post(EDIT, form_data(**changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors.get(field) == [message], errors
    body = response.content.decode()
    assert escape(message) in body
    assert SegmentRuleSet.objects.count() == 1
    assert not MetricRun.objects.exists()


def test_the_rules_page_lists_the_groups_with_own_limits(
    company, as_user, km_anna, head_vera, fasteners
):
    save_limits(head_vera, {str(fasteners.pk): {"band_limits": ["0.02", "0.2", "0.6"]}})
    page = as_user(km_anna).get(RULES).content.decode()
    table = page.split('class="table group-limits"', 1)[1].split("</table>", 1)[0]
    assert "Fasteners" in table and "2 % / 20 % / 60 %" in table
    assert "10 %" in table  # no own threshold: the rule set's


# ------------------------------------------------------------------ the model and the API


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"share_threshold": "0"}, rule_model.GROUP_THRESHOLD_RANGE),
        ({"share_threshold": "1.5"}, rule_model.GROUP_THRESHOLD_RANGE),
        ({"share_threshold": "0.12345"}, rule_model.GROUP_FRACTION_PLACES),
        ({"band_limits": ["0.2", "0.1", "0.5"]}, rule_model.GROUP_LIMITS_ASCENDING),
        ({"band_limits": ["0.1", "0.1", "0.5"]}, rule_model.GROUP_LIMITS_ASCENDING),
        ({"band_limits": ["0.1", "0.5"]}, rule_model.GROUP_LIMITS_THREE),
        ({"band_limits": ["0", "0.1", "0.5"]}, rule_model.GROUP_LIMIT_RANGE),
        ({"band_limits": ["0.1", "0.5", "1.2"]}, rule_model.GROUP_LIMIT_RANGE),
        ({"colour": "red"}, rule_model.GROUP_SETTINGS_UNKNOWN),
    ],
)
def test_the_model_refuses_bad_limits_naming_the_group(head_vera, fasteners, limits, message):
    with pytest.raises(ValidationError) as caught:
        save_limits(head_vera, {str(fasteners.pk): limits})
    assert caught.value.message_dict == {"group_limits": [str(message % {"group": "Fasteners"})]}
    with pytest.raises(ValidationError) as unknown:
        save_limits(head_vera, {"999999": {"share_threshold": "0.2"}})
    assert unknown.value.message_dict == {
        "group_limits": [str(rule_model.GROUP_UNKNOWN % {"group": "999999"})]
    }
    assert SegmentRuleSet.objects.count() == 1


def test_the_api_reads_and_writes_group_limits(
    company, as_user, km_anna, head_vera, fasteners, django_capture_on_commit_callbacks
):
    payload = {
        "group_limits": {
            str(fasteners.pk): {"share_threshold": "0.15", "band_limits": ["0.02", "0.2", "0.6"]}
        },
        "comment": "Through the API",
    }
    with django_capture_on_commit_callbacks() as callbacks:
        created = post_json(as_user(head_vera), payload)
    assert created.status_code == 201, created.json()
    assert len(callbacks) == 1
    body = created.json()
    assert body["version"] == 2
    assert body["group_limits"] == {
        str(fasteners.pk): {
            "name": "Fasteners",
            "share_threshold": "0.15",
            "band_limits": ["0.02", "0.2", "0.6"],
        }
    }
    assert [(c["setting"], c["old"], c["new"]) for c in body["changes"]] == [
        (
            "Share limits per product group",
            "",
            "Fasteners: high share from 15 %, bands from 2 % / 20 % / 60 %",
        ),
    ]
    listed = as_user(km_anna).get(API).json()
    versions = listed["results"] if isinstance(listed, dict) else listed
    assert versions[1]["group_limits"] == {}
    # Other settings saved later keep the group limits of the version in force.
    again = post_json(as_user(head_vera), {"share_threshold": "0.2", "comment": "x"})
    assert again.status_code == 201, again.json()
    assert SegmentRuleSet.objects.active().group_limits == body["group_limits"]


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"share_threshold": "0"}, rule_model.GROUP_THRESHOLD_RANGE),
        ({"share_threshold": "2"}, rule_model.GROUP_THRESHOLD_RANGE),
        ({"band_limits": ["0.3", "0.2", "0.5"]}, rule_model.GROUP_LIMITS_ASCENDING),
        ({"band_limits": ["0.01", "0.2"]}, rule_model.GROUP_LIMITS_THREE),
        ({"band_limits": ["0.01", "0.2", "0.50001"]}, rule_model.GROUP_FRACTION_PLACES),
    ],
)
def test_the_api_refuses_bad_limits_and_saves_nothing(
    company, as_user, head_vera, fasteners, limits, message
):
    response = post_json(
        as_user(head_vera), {"group_limits": {str(fasteners.pk): limits}, "comment": "x"}
    )
    assert response.status_code == 400
    assert response.json() == {"group_limits": [str(message % {"group": "Fasteners"})]}
    unknown = post_json(
        as_user(head_vera), {"group_limits": {"999999": {"share_threshold": "0.2"}}, "comment": "x"}
    )
    assert unknown.status_code == 400
    assert unknown.json() == {"group_limits": [str(rule_model.GROUP_UNKNOWN % {"group": "999999"})]}
    not_a_number = post_json(
        as_user(head_vera),
        {"group_limits": {str(fasteners.pk): {"share_threshold": "ten"}}, "comment": "x"},
    )
    assert not_a_number.status_code == 400
    assert str(fasteners.pk) in not_a_number.json()["group_limits"]
    assert SegmentRuleSet.objects.count() == 1
    assert not MetricRun.objects.exists()


# ------------------------------------------------------------------ the client card


def test_the_card_shows_the_band_by_the_groups_limits_and_marks_high_share(
    company, as_user, km_anna, head_vera, fasteners, paint
):
    save_limits(
        head_vera,
        {str(fasteners.pk): {"share_threshold": "0.15", "band_limits": ["0.02", "0.2", "0.6"]}},
    )
    client = ClientFactory(owner=km_anna)
    line(client, day(-10), 1000, product=ProductFactory(group=fasteners))
    line(client, day(-11), 1000, product=ProductFactory(group=paint))
    wallet(client, 10_000, group=fasteners)
    wallet(client, 10_000, group=paint)
    run(D)
    response = as_user(km_anna).get(reverse("crm:client_detail", args=[client.pk]))
    shares = {row.name: row for row in response.context["group_shares"]}
    # Both 0.10: fasteners' own bands make it secondary, below its own 0.15 threshold;
    # paint keeps the standard ones: main, and high from the rule set's 0.10.
    assert (shares["Fasteners"].band, shares["Fasteners"].high_share) == ("secondary", False)
    assert (shares["Paint"].band, shares["Paint"].high_share) == ("main", True)
    section = response.content.decode().split('id="group-shares"', 1)[1].split("</section>", 1)[0]
    fasteners_row = section.split("Fasteners", 1)[1].split("</tr>", 1)[0]
    paint_row = section.split("Paint", 1)[1].split("</tr>", 1)[0]
    assert str(ShareBand.SECONDARY.label) in fasteners_row and "high share" not in fasteners_row
    assert str(ShareBand.MAIN.label) in paint_row and "high share" in paint_row
    api = as_user(km_anna).get(f"/api/v1/clients/{client.pk}/overview/").json()
    by_name = {row["name"]: row for row in api["group_shares"]}
    assert (by_name["Fasteners"]["share_band"], by_name["Fasteners"]["high_share"]) == (
        "secondary",
        False,
    )
    assert (by_name["Paint"]["share_band"], by_name["Paint"]["high_share"]) == ("main", True)
