from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0007_snapshot_reverse_relation"),
    ]

    operations = [
        migrations.AddField(
            model_name="developmentmetric",
            name="satisfaction_answers",
            field=models.PositiveIntegerField(default=0, verbose_name="satisfaction answers"),
        ),
        migrations.AddField(
            model_name="developmentmetric",
            name="satisfied",
            field=models.PositiveIntegerField(
                default=0, verbose_name="satisfied answers (4–5 of 5)"
            ),
        ),
        migrations.AddField(
            model_name="developmentmetric",
            name="satisfaction_ratio",
            field=models.DecimalField(
                blank=True, decimal_places=6, max_digits=9, null=True, verbose_name="satisfaction"
            ),
        ),
        migrations.AddField(
            model_name="developmentmetric",
            name="nps_answers",
            field=models.PositiveIntegerField(default=0, verbose_name="NPS answers"),
        ),
        migrations.AddField(
            model_name="developmentmetric",
            name="nps_promoters",
            field=models.PositiveIntegerField(default=0, verbose_name="promoters (9–10)"),
        ),
        migrations.AddField(
            model_name="developmentmetric",
            name="nps_detractors",
            field=models.PositiveIntegerField(default=0, verbose_name="detractors (0–6)"),
        ),
        migrations.AddField(
            model_name="developmentmetric",
            name="nps",
            field=models.DecimalField(
                blank=True,
                decimal_places=4,
                help_text="Promoters minus detractors, per cent of the answers: from −100 to 100.",
                max_digits=9,
                null=True,
                verbose_name="NPS",
            ),
        ),
    ]
