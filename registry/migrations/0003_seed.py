"""The seeds' follow-up schedules and the twelve stars' criteria, as data (helper "ratings").

Both are rows, edited in the admin: a new schedule or criterion needs no code. Reversing removes
only the rows this migration made (by code), and only while nothing refers to them.

Schedules (docs/register.md): Zhengzhou (seed 003) follows in-flowing residents up in January,
April, July and October and employees yearly; out-flowing residents report twice a year (the
seed's "every 3 months" from the home village is the floor of a report per half-year visit);
community residents once a year.

Criteria: Xiangfan (seed 000) rates rental houses with "twelve-star" plates, monthly, led by the
family-planning office with public security (综治) and health (卫生). The criteria below split the
twelve stars between those three departments' concerns and the register's own (registration on
time, accurate tenant details, the "人口" plate).
"""

from typing import Any

from django.db import migrations

SCHEDULES = [
    # code, name, months, default for category
    ("floating-quarterly", "流入人口季度随访（1、4、7、10月）", [1, 4, 7, 10], "floating"),
    ("employer-yearly", "单位从业人员年度随访（1月）", [1], "employer"),
    ("outflowing-halfyear", "流出人口半年随访（1、7月）", [1, 7], "outflowing"),
    ("community-yearly", "社区居民年度随访（1月）", [1], "community"),
]

CRITERIA = [
    # code, name, stars, position
    ("licences", "证照齐全（租赁登记备案、治安许可）", 2, 10),
    ("registered-on-time", "租户登记及时（入住三日内）", 2, 20),
    ("tenant-details", "租户信息准确", 2, 30),
    ("fire-safety", "消防安全", 2, 40),
    ("security-contract", "治安责任书已签", 1, 50),
    ("family-planning-contract", "计划生育责任书已签", 1, 60),
    ("sanitation", "卫生整洁", 1, 70),
    ("population-plate", "“人口”门牌悬挂", 1, 80),
]
# Their stars add up to twelve (tests/registry/test_ratings.py checks the seeded rows).


def seed(apps: Any, schema_editor: Any) -> None:
    schedule = apps.get_model("registry", "FollowUpSchedule")
    criterion = apps.get_model("registry", "StarCriterion")
    for code, name, months, category in SCHEDULES:
        schedule.objects.get_or_create(
            code=code, defaults={"name": name, "months": months, "category": category}
        )
    for code, name, stars, position in CRITERIA:
        criterion.objects.get_or_create(
            code=code, defaults={"name": name, "stars": stars, "position": position}
        )


def unseed(apps: Any, schema_editor: Any) -> None:
    from registry.privacy import personal

    schedule = apps.get_model("registry", "FollowUpSchedule")
    criterion = apps.get_model("registry", "StarCriterion")
    # Residents keep their files: a schedule still in use stays (PROTECT would refuse anyway).
    # The residents' table is read to know, so inside the personal-data context.
    with personal(system=True):
        schedule.objects.filter(
            code__in=[row[0] for row in SCHEDULES], residents__isnull=True
        ).delete()
    criterion.objects.filter(code__in=[row[0] for row in CRITERIA]).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_row_level_security")]

    operations = [migrations.RunPython(seed, unseed)]
