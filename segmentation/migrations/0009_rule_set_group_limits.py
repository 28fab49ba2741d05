from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0008_development_survey_metrics"),
    ]

    operations = [
        migrations.AddField(
            model_name="segmentruleset",
            name="group_limits",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text=(
                    "Per product group, an own share threshold and own band limits "
                    "(fractions); a group without them uses the rule set's threshold and "
                    "the standard bands."
                ),
                verbose_name="share limits per product group",
            ),
        ),
        migrations.AddField(
            model_name="clientgroupshare",
            name="high_share",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Share of wallet at or above the group's share threshold (the rule "
                    "set's when the group has none); false without a share."
                ),
                verbose_name="high share",
            ),
        ),
    ]
