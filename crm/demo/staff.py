"""The demo's staff: users, their roles and teams, and the logins the command prints."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.choices import Role
from accounts.models import User

DEMO_DOMAIN = "demo.clientbase.local"
DEMO_PASSWORD = "clientbase-demo"  # published on purpose: the demo logins
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
TOP_TEAM = "Sales department"
KEY_TEAM = "Key accounts"
REGIONAL_TEAM = "Regional sales"
DEMO_TEAMS = (TOP_TEAM, KEY_TEAM, REGIONAL_TEAM)


# (e-mail local part, first name, last name, roles, member of, heads)
@dataclass(frozen=True)
class StaffMember:
    local: str
    first_name: str
    last_name: str
    roles: tuple[str, ...]
    team: str | None = None
    heads: str | None = None


CORE_STAFF = (
    StaffMember("admin", "Андрей", "Смирнов", (Role.ADMIN,)),
    StaffMember("vera.head", "Вера", "Соколова", (Role.HEAD,), heads=TOP_TEAM),
    StaffMember("oleg.head", "Олег", "Лебедев", (Role.HEAD,), TOP_TEAM, heads=KEY_TEAM),
    StaffMember("irina.head", "Ирина", "Волкова", (Role.HEAD,), TOP_TEAM, heads=REGIONAL_TEAM),
    StaffMember("anna.km", "Анна", "Кузнецова", (Role.KM,), KEY_TEAM),
    StaffMember("pavel.km", "Павел", "Морозов", (Role.KM,), REGIONAL_TEAM),
    StaffMember("elena.km", "Елена", "Новикова", (Role.KM,), REGIONAL_TEAM),
    StaffMember("sergey.kam", "Сергей", "Орлов", (Role.KAM,), KEY_TEAM),
    StaffMember("marina.kam", "Марина", "Павлова", (Role.KAM,), KEY_TEAM),
    StaffMember("ivan.pm", "Иван", "Макаров", (Role.PM,), KEY_TEAM),
    StaffMember("dmitry.developer", "Дмитрий", "Егоров", (Role.DEVELOPER,), REGIONAL_TEAM),
    StaffMember("olga.developer", "Ольга", "Никитина", (Role.DEVELOPER, Role.TM), REGIONAL_TEAM),
    StaffMember("nikita.tm", "Никита", "Зайцев", (Role.TM,), REGIONAL_TEAM),
    StaffMember("svetlana.office", "Светлана", "Белова", (Role.OFFICE,), REGIONAL_TEAM),
    StaffMember("yulia.office", "Юлия", "Жукова", (Role.OFFICE,), REGIONAL_TEAM),
    StaffMember("alexey.support", "Алексей", "Гусев", (Role.SUPPORT,), TOP_TEAM),
    StaffMember("tatiana.backoffice", "Татьяна", "Комарова", (Role.BACK_OFFICE,), TOP_TEAM),
)
# Roles of the managers added as the client base grows (about one per 350 clients).
EXTRA_MANAGER_ROLES = (
    Role.KM,
    Role.OFFICE,
    Role.DEVELOPER,
    Role.KM,
    Role.KM,
    Role.OFFICE,
    Role.DEVELOPER,
    Role.KAM,
    Role.KM,
    Role.PM,
)
CLIENTS_PER_MANAGER = 350


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    roles: tuple[str, ...]
    teams: tuple[str, ...]


def demo_logins() -> list[DemoLogin]:
    """The demo users present in the database, core staff first."""
    order = {f"{m.local}@{DEMO_DOMAIN}": i for i, m in enumerate(CORE_STAFF)}
    users = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").prefetch_related(
        "roles", "teams", "headed_teams"
    )
    logins = [
        DemoLogin(
            email=user.email,
            name=user.get_full_name(),
            roles=tuple(sorted(r.role for r in user.roles.all())),
            teams=tuple(
                sorted(
                    {t.name for t in user.teams.all()} | {t.name for t in user.headed_teams.all()}
                )
            ),
        )
        for user in users
    ]
    return sorted(logins, key=lambda login: (order.get(login.email, len(order)), login.email))
