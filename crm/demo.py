"""Demo data: a deterministic, realistically skewed client base to try Clientbase on.

``generate_demo`` builds the staff and their teams, a product catalogue,
clients with contacts, shipments, activities, tasks, deals, access grants,
the ownership ledger and turnover/wallet estimates.

Determinism: every random draw comes from one ``random.Random(seed)`` and one
``numpy.random.default_rng(seed)``, consumed in a fixed order, and every date
is counted from the as-of date. Nothing depends on database ids or on the
wall clock, so the same seed, as-of date and sizes give identical rows.

Scale: shipments are planned as numpy arrays (one row per document, a few
bytes each) and their lines are generated and written per chunk of clients,
so 10 M lines never exist as Python objects. On PostgreSQL the lines go in
with COPY from a CSV buffer that numpy formats itself; on SQLite (small
demos only) they go in with ``bulk_create``.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import random
import time as clock
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import connection, models, reset_queries, transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.choices import Role
from accounts.models import Team, User, UserRole
from crm import choices
from crm.models import (
    Activity,
    Client,
    ClientGrant,
    Contact,
    Deal,
    OwnershipChange,
    Product,
    ProductGroup,
    ShipmentLine,
    Task,
    WalletEstimate,
)

IntArray = npt.NDArray[np.int64]
SmallIntArray = npt.NDArray[np.int32] | npt.NDArray[np.int8]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ByteMatrix = npt.NDArray[np.uint8]
Progress = Callable[[str], None]

DEMO_DOMAIN = "demo.clientbase.local"
DEMO_PASSWORD = "clientbase-demo"  # published on purpose: the demo logins
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
CHANGE_REASON = "demo data"
TOP_TEAM = "Sales department"
KEY_TEAM = "Key accounts"
REGIONAL_TEAM = "Regional sales"
DEMO_TEAMS = (TOP_TEAM, KEY_TEAM, REGIONAL_TEAM)

DEFAULT_CLIENTS = 300
DEFAULT_MONTHS = 26
DEFAULT_SEED = 42
LINES_PER_CLIENT_YEAR = 200
MAX_PRODUCTS = 20_000
LINES_PER_CHUNK = 200_000  # shipment lines generated and written at once
ROWS_PER_BATCH = 5_000  # Django objects built at once for bulk_create
RETURN_SHARE = 0.02  # share of documents that are returns
NEGATIVE_LINE_SHARE = 0.004  # negative lines inside positive documents
TYPICAL_REVENUE = 600_000.0  # median yearly revenue of a client, roubles
LINE_COLUMNS = (
    "doc_number",
    "doc_date",
    "client_id",
    "product_id",
    "qty",
    "amount",
    "cost",
    "manager_email",
)

# Lifecycle kinds the plan gives clients (the metrics recompute the status).
ACTIVE, NEW, SLEEPING, LOST, PROSPECT = range(5)
KIND_SHARES = {PROSPECT: 0.12, LOST: 0.08, SLEEPING: 0.10, NEW: 0.07}

SALES_TYPES = (
    choices.SalesType.TRANSACTIONAL,
    choices.SalesType.MIXED,
    choices.SalesType.CONSULTATIVE,
    choices.SalesType.STRATEGIC,
)
SALES_TYPE_SHARES = (0.45, 0.35, 0.14, 0.06)
# Orders a year of a typical client of each sales type (domain: "Sales types").
ORDERS_PER_YEAR = np.array([26.0, 10.0, 5.0, 2.0])

# ---------------------------------------------------------------------------
# Hand-written word lists
# ---------------------------------------------------------------------------

# (region, its main city, INN region code, telephone code, weight)
REGIONS: tuple[tuple[str, str, int, str, float], ...] = (
    ("Москва", "Москва", 77, "495", 22),
    ("Санкт-Петербург", "Санкт-Петербург", 78, "812", 10),
    ("Московская область", "Подольск", 50, "496", 8),
    ("Ленинградская область", "Гатчина", 47, "813", 2),
    ("Свердловская область", "Екатеринбург", 66, "343", 5),
    ("Республика Татарстан", "Казань", 16, "843", 4),
    ("Новосибирская область", "Новосибирск", 54, "383", 4),
    ("Краснодарский край", "Краснодар", 23, "861", 4),
    ("Нижегородская область", "Нижний Новгород", 52, "831", 3),
    ("Самарская область", "Самара", 63, "846", 3),
    ("Ростовская область", "Ростов-на-Дону", 61, "863", 3),
    ("Республика Башкортостан", "Уфа", 2, "347", 3),
    ("Челябинская область", "Челябинск", 74, "351", 3),
    ("Пермский край", "Пермь", 59, "342", 2),
    ("Воронежская область", "Воронеж", 36, "473", 2),
    ("Красноярский край", "Красноярск", 24, "391", 2),
    ("Тюменская область", "Тюмень", 72, "345", 2),
    ("Иркутская область", "Иркутск", 38, "395", 1),
    ("Приморский край", "Владивосток", 25, "423", 1),
    ("Калининградская область", "Калининград", 39, "401", 1),
    ("Ярославская область", "Ярославль", 76, "485", 1),
    ("Волгоградская область", "Волгоград", 34, "844", 1),
    ("Омская область", "Омск", 55, "381", 1),
    ("Саратовская область", "Саратов", 64, "845", 1),
    ("Тульская область", "Тула", 71, "487", 1),
    ("Хабаровский край", "Хабаровск", 27, "421", 1),
)
INDUSTRIES = (
    "Розничная торговля",
    "Оптовая торговля",
    "Строительство",
    "Производство",
    "HoReCa",
    "Логистика и склады",
    "Медицина",
    "Образование",
    "Автосервис",
    "Управление недвижимостью",
)
INDUSTRY_WEIGHTS = (20, 14, 14, 12, 10, 8, 6, 5, 6, 5)
STREETS = (
    "Ленина",
    "Мира",
    "Советская",
    "Гагарина",
    "Садовая",
    "Заводская",
    "Промышленная",
    "Лесная",
    "Набережная",
    "Октябрьская",
    "Строителей",
    "Победы",
    "Московская",
    "Полевая",
    "Центральная",
    "Кирова",
    "Пушкина",
    "Школьная",
    "Трудовая",
    "Новая",
)
# (masculine, feminine, neuter) so the adjective agrees with the noun.
ADJECTIVES = (
    ("Северный", "Северная", "Северное"),
    ("Южный", "Южная", "Южное"),
    ("Восточный", "Восточная", "Восточное"),
    ("Западный", "Западная", "Западное"),
    ("Уральский", "Уральская", "Уральское"),
    ("Сибирский", "Сибирская", "Сибирское"),
    ("Волжский", "Волжская", "Волжское"),
    ("Балтийский", "Балтийская", "Балтийское"),
    ("Невский", "Невская", "Невское"),
    ("Донской", "Донская", "Донское"),
    ("Новый", "Новая", "Новое"),
    ("Первый", "Первая", "Первое"),
    ("Золотой", "Золотая", "Золотое"),
    ("Серебряный", "Серебряная", "Серебряное"),
    ("Зелёный", "Зелёная", "Зелёное"),
    ("Белый", "Белая", "Белое"),
    ("Большой", "Большая", "Большое"),
    ("Верный", "Верная", "Верное"),
    ("Добрый", "Добрая", "Доброе"),
    ("Светлый", "Светлая", "Светлое"),
    ("Ясный", "Ясная", "Ясное"),
    ("Лесной", "Лесная", "Лесное"),
    ("Речной", "Речная", "Речное"),
    ("Городской", "Городская", "Городское"),
    ("Торговый", "Торговая", "Торговое"),
    ("Промышленный", "Промышленная", "Промышленное"),
    ("Технический", "Техническая", "Техническое"),
    ("Деловой", "Деловая", "Деловое"),
    ("Надёжный", "Надёжная", "Надёжное"),
    ("Главный", "Главная", "Главное"),
    ("Центральный", "Центральная", "Центральное"),
    ("Столичный", "Столичная", "Столичное"),
    ("Объединённый", "Объединённая", "Объединённое"),
    ("Современный", "Современная", "Современное"),
    ("Единый", "Единая", "Единое"),
    ("Чистый", "Чистая", "Чистое"),
)
NOUNS_M = (
    "Альянс",
    "Вектор",
    "Дом",
    "Мир",
    "Ресурс",
    "Стандарт",
    "Партнёр",
    "Союз",
    "Двор",
    "Маяк",
    "Берег",
    "Путь",
    "Континент",
    "Терминал",
    "Регион",
    "Квартал",
    "Поток",
    "Рынок",
    "Склад",
    "Горизонт",
)
NOUNS_F = (
    "Звезда",
    "Линия",
    "Компания",
    "Группа",
    "Гавань",
    "Мануфактура",
    "Артель",
    "Ярмарка",
    "Система",
    "Сеть",
    "Лавка",
    "Пристань",
    "Волна",
    "Мастерская",
    "Фабрика",
)
NOUNS_N = (
    "Дело",
    "Снабжение",
    "Решение",
    "Товарищество",
    "Поле",
    "Содружество",
    "Партнёрство",
    "Направление",
)
PREFIXES = (
    "Техно",
    "Строй",
    "Агро",
    "Пром",
    "Торг",
    "Инвест",
    "Энерго",
    "Мед",
    "Авто",
    "Эко",
    "Евро",
    "Гео",
    "Транс",
    "Лес",
    "Хим",
    "Электро",
    "Сиб",
    "Урал",
    "Волга",
    "Нева",
    "Мега",
    "Гранд",
    "Альфа",
    "Вита",
    "Опт",
    "Снаб",
    "Меридиан",
    "Арт",
)
SUFFIXES = (
    "снаб",
    "сервис",
    "торг",
    "маркет",
    "трейд",
    "пром",
    "строй",
    "ком",
    "лайн",
    "систем",
    "групп",
    "плюс",
    "тех",
    "сфера",
    "центр",
    "ресурс",
    "комплект",
    "опт",
    "логистик",
)
NAME_TAILS = ("-Урал", "-Сибирь", "-Юг", "-Центр", "-Север", "-Волга", " Плюс", " Групп", "-М")
LEGAL_FORMS = ("ООО", "АО", "ЗАО", "ПАО")
LEGAL_FORM_WEIGHTS = (78, 14, 6, 2)

# (first name, patronymic for a man, patronymic for a woman)
MALE_NAMES = (
    ("Александр", "Александрович", "Александровна"),
    ("Алексей", "Алексеевич", "Алексеевна"),
    ("Андрей", "Андреевич", "Андреевна"),
    ("Антон", "Антонович", "Антоновна"),
    ("Артём", "Артёмович", "Артёмовна"),
    ("Борис", "Борисович", "Борисовна"),
    ("Вадим", "Вадимович", "Вадимовна"),
    ("Василий", "Васильевич", "Васильевна"),
    ("Виктор", "Викторович", "Викторовна"),
    ("Владимир", "Владимирович", "Владимировна"),
    ("Геннадий", "Геннадьевич", "Геннадьевна"),
    ("Георгий", "Георгиевич", "Георгиевна"),
    ("Григорий", "Григорьевич", "Григорьевна"),
    ("Денис", "Денисович", "Денисовна"),
    ("Дмитрий", "Дмитриевич", "Дмитриевна"),
    ("Евгений", "Евгеньевич", "Евгеньевна"),
    ("Егор", "Егорович", "Егоровна"),
    ("Иван", "Иванович", "Ивановна"),
    ("Игорь", "Игоревич", "Игоревна"),
    ("Илья", "Ильич", "Ильинична"),
    ("Кирилл", "Кириллович", "Кирилловна"),
    ("Константин", "Константинович", "Константиновна"),
    ("Леонид", "Леонидович", "Леонидовна"),
    ("Максим", "Максимович", "Максимовна"),
    ("Михаил", "Михайлович", "Михайловна"),
    ("Никита", "Никитич", "Никитична"),
    ("Николай", "Николаевич", "Николаевна"),
    ("Олег", "Олегович", "Олеговна"),
    ("Павел", "Павлович", "Павловна"),
    ("Роман", "Романович", "Романовна"),
    ("Сергей", "Сергеевич", "Сергеевна"),
    ("Станислав", "Станиславович", "Станиславовна"),
    ("Степан", "Степанович", "Степановна"),
    ("Тимур", "Тимурович", "Тимуровна"),
    ("Фёдор", "Фёдорович", "Фёдоровна"),
    ("Юрий", "Юрьевич", "Юрьевна"),
)
FEMALE_NAMES = (
    "Анастасия",
    "Анна",
    "Алина",
    "Валентина",
    "Валерия",
    "Вера",
    "Виктория",
    "Галина",
    "Дарья",
    "Евгения",
    "Екатерина",
    "Елена",
    "Жанна",
    "Инна",
    "Ирина",
    "Карина",
    "Ксения",
    "Лариса",
    "Людмила",
    "Марина",
    "Мария",
    "Надежда",
    "Наталья",
    "Оксана",
    "Ольга",
    "Полина",
    "Светлана",
    "Софья",
    "Татьяна",
    "Юлия",
)
# (a man's surname, a woman's)
SURNAMES = (
    ("Иванов", "Иванова"),
    ("Смирнов", "Смирнова"),
    ("Кузнецов", "Кузнецова"),
    ("Попов", "Попова"),
    ("Васильев", "Васильева"),
    ("Петров", "Петрова"),
    ("Соколов", "Соколова"),
    ("Михайлов", "Михайлова"),
    ("Новиков", "Новикова"),
    ("Фёдоров", "Фёдорова"),
    ("Морозов", "Морозова"),
    ("Волков", "Волкова"),
    ("Алексеев", "Алексеева"),
    ("Лебедев", "Лебедева"),
    ("Семёнов", "Семёнова"),
    ("Егоров", "Егорова"),
    ("Павлов", "Павлова"),
    ("Козлов", "Козлова"),
    ("Степанов", "Степанова"),
    ("Николаев", "Николаева"),
    ("Орлов", "Орлова"),
    ("Андреев", "Андреева"),
    ("Макаров", "Макарова"),
    ("Никитин", "Никитина"),
    ("Захаров", "Захарова"),
    ("Зайцев", "Зайцева"),
    ("Соловьёв", "Соловьёва"),
    ("Борисов", "Борисова"),
    ("Яковлев", "Яковлева"),
    ("Григорьев", "Григорьева"),
    ("Романов", "Романова"),
    ("Воробьёв", "Воробьёва"),
    ("Кузьмин", "Кузьмина"),
    ("Фролов", "Фролова"),
    ("Дмитриев", "Дмитриева"),
    ("Королёв", "Королёва"),
    ("Гусев", "Гусева"),
    ("Киселёв", "Киселёва"),
    ("Ильин", "Ильина"),
    ("Максимов", "Максимова"),
    ("Поляков", "Полякова"),
    ("Сорокин", "Сорокина"),
    ("Виноградов", "Виноградова"),
    ("Ковалёв", "Ковалёва"),
    ("Белов", "Белова"),
    ("Медведев", "Медведева"),
    ("Антонов", "Антонова"),
    ("Тарасов", "Тарасова"),
    ("Жуков", "Жукова"),
    ("Баранов", "Баранова"),
    ("Комаров", "Комарова"),
    ("Давыдов", "Давыдова"),
    ("Беляев", "Беляева"),
    ("Богданов", "Богданова"),
    ("Осипов", "Осипова"),
    ("Сидоров", "Сидорова"),
    ("Титов", "Титова"),
    ("Миронов", "Миронова"),
    ("Крылов", "Крылова"),
    ("Карпов", "Карпова"),
    ("Власов", "Власова"),
    ("Мельников", "Мельникова"),
    ("Денисов", "Денисова"),
    ("Тихонов", "Тихонова"),
    ("Данилов", "Данилова"),
    ("Фомин", "Фомина"),
    ("Чернов", "Чернова"),
    ("Щербаков", "Щербакова"),
    ("Калинин", "Калинина"),
    ("Белых", "Белых"),
    ("Черных", "Черных"),
    ("Ковальчук", "Ковальчук"),
    ("Шевченко", "Шевченко"),
    ("Бондаренко", "Бондаренко"),
)

# (position, department, level)
TOP_POSITIONS = (
    ("Генеральный директор", "Дирекция"),
    ("Коммерческий директор", "Дирекция"),
    ("Директор по закупкам", "Закупки"),
    ("Финансовый директор", "Финансы"),
    ("Собственник", "Дирекция"),
)
MIDDLE_POSITIONS = (
    ("Руководитель отдела закупок", "Закупки"),
    ("Руководитель отдела снабжения", "Снабжение"),
    ("Главный инженер", "Производство"),
    ("Начальник склада", "Склад"),
    ("Главный бухгалтер", "Бухгалтерия"),
    ("Руководитель направления", "Коммерческий отдел"),
)
OPERATIONAL_POSITIONS = (
    ("Менеджер по закупкам", "Закупки"),
    ("Специалист по снабжению", "Снабжение"),
    ("Кладовщик", "Склад"),
    ("Секретарь", "Приёмная"),
    ("Бухгалтер", "Бухгалтерия"),
    ("Мастер участка", "Производство"),
)
ATTITUDES = (
    choices.Attitude.SUPPORTER,
    choices.Attitude.NEUTRAL,
    choices.Attitude.SCEPTIC,
    choices.Attitude.OPPONENT,
    choices.Attitude.UNKNOWN,
)
ATTITUDE_WEIGHTS = (25, 35, 12, 5, 23)

# (name, typical price in roubles, sold in whole units)
PRODUCT_GROUPS: tuple[tuple[str, float, bool], ...] = (
    ("Бытовая химия", 280.0, True),
    ("Упаковка", 90.0, True),
    ("Канцелярские товары", 120.0, True),
    ("Хозяйственные товары", 350.0, True),
    ("Средства индивидуальной защиты", 450.0, True),
    ("Инструмент", 2400.0, True),
    ("Электротовары", 900.0, True),
    ("Крепёж", 15.0, False),
    ("Одноразовая посуда", 60.0, True),
    ("Бумажная продукция", 180.0, True),
    ("Профессиональная уборка", 1500.0, True),
    ("Лакокрасочные материалы", 420.0, False),
)
PRODUCT_ITEMS: dict[str, tuple[str, ...]] = {
    "Бытовая химия": (
        "Средство для мытья посуды",
        "Чистящее средство",
        "Стиральный порошок",
        "Средство для стёкол",
        "Жидкое мыло",
        "Отбеливатель",
    ),
    "Упаковка": (
        "Коробка картонная",
        "Стрейч-плёнка",
        "Пакет фасовочный",
        "Скотч упаковочный",
        "Пузырчатая плёнка",
        "Мешок полипропиленовый",
    ),
    "Канцелярские товары": (
        "Бумага офисная",
        "Ручка шариковая",
        "Папка-регистратор",
        "Блокнот",
        "Маркер",
        "Степлер",
    ),
    "Хозяйственные товары": (
        "Ведро",
        "Швабра",
        "Мешки для мусора",
        "Губки",
        "Тряпка для пола",
        "Щётка",
    ),
    "Средства индивидуальной защиты": (
        "Перчатки нитриловые",
        "Респиратор",
        "Очки защитные",
        "Каска",
        "Костюм рабочий",
        "Беруши",
    ),
    "Инструмент": (
        "Дрель",
        "Шуруповёрт",
        "Набор отвёрток",
        "Молоток",
        "Рулетка",
        "Углошлифовальная машина",
    ),
    "Электротовары": (
        "Лампа светодиодная",
        "Удлинитель",
        "Кабель",
        "Розетка",
        "Выключатель",
        "Светильник",
    ),
    "Крепёж": ("Саморез", "Дюбель", "Болт", "Гайка", "Шайба", "Анкер"),
    "Одноразовая посуда": (
        "Стакан бумажный",
        "Тарелка",
        "Контейнер",
        "Вилка",
        "Крышка",
        "Ланч-бокс",
    ),
    "Бумажная продукция": (
        "Полотенца бумажные",
        "Туалетная бумага",
        "Салфетки",
        "Бумага для диспенсера",
        "Полотенца листовые",
        "Протирочный материал",
    ),
    "Профессиональная уборка": (
        "Моющий пылесос",
        "Тележка уборочная",
        "Дозатор",
        "Концентрат для пола",
        "Моп",
        "Пад для поломоечной машины",
    ),
    "Лакокрасочные материалы": (
        "Краска фасадная",
        "Эмаль",
        "Грунтовка",
        "Лак",
        "Шпатлёвка",
        "Растворитель",
    ),
}
BRANDS = (
    "«Практик»",
    "«Мастер»",
    "«Эконом»",
    "«Профи»",
    "«Стандарт»",
    "«Север»",
    "«Экспресс»",
    "«Оптима»",
)
# How each group's products are packed (groups sold by weight: per kilogram).
PACKS: dict[str, tuple[str, ...]] = {
    "Бытовая химия": ("0,5 л", "1 л", "5 л"),
    "Упаковка": ("уп. 10 шт.", "уп. 100 шт.", "рулон"),
    "Канцелярские товары": ("1 шт.", "уп. 10 шт.", "уп. 50 шт."),
    "Хозяйственные товары": ("1 шт.", "уп. 5 шт.", "уп. 20 шт."),
    "Средства индивидуальной защиты": ("1 шт.", "1 пара", "уп. 10 шт."),
    "Инструмент": ("1 шт.", "в кейсе", "набор"),
    "Электротовары": ("1 шт.", "уп. 10 шт.", "бухта 50 м"),
    "Крепёж": ("на развес, кг",),
    "Одноразовая посуда": ("уп. 50 шт.", "уп. 100 шт.", "уп. 500 шт."),
    "Бумажная продукция": ("1 рулон", "уп. 12 рулонов", "уп. 200 листов"),
    "Профессиональная уборка": ("1 шт.", "1 л", "5 л"),
    "Лакокрасочные материалы": ("на развес, кг",),
}

ACTIVITY_SUMMARIES: dict[str, tuple[str, ...]] = {
    choices.ActivityPurpose.ACQUISITION: (
        "Первый звонок: выяснили, кто отвечает за закупки",
        "Презентация компании и ассортимента",
        "Отправили коммерческое предложение",
        "Уточнили объём закупок и текущих поставщиков",
        "Договорились о встрече с директором по закупкам",
    ),
    choices.ActivityPurpose.SALE: (
        "Обсудили заказ на следующий месяц",
        "Согласовали спецификацию и цены",
        "Предложили скидку за объём",
        "Выставили счёт по заявке",
    ),
    choices.ActivityPurpose.SERVICE: (
        "Решили вопрос с задержкой поставки",
        "Сверка взаиморасчётов",
        "Замена бракованной позиции",
        "Консультация по применению товара",
    ),
    choices.ActivityPurpose.RETENTION: (
        "Выясняли причину паузы в заказах",
        "Предложили специальные условия для возобновления закупок",
        "Клиент ушёл к конкуренту: узнали условия",
        "Напомнили о себе, отправили новый прайс",
    ),
    choices.ActivityPurpose.DEVELOPMENT: (
        "Предложили новую товарную группу",
        "Встреча с главным инженером: расширение ассортимента",
        "Обсудили поставки на новые точки клиента",
        "Показали образцы новинок",
    ),
}
ACTIVITY_OUTCOMES = (
    "Ждём заявку до конца недели",
    "Клиент думает, перезвонить через две недели",
    "Получили заявку",
    "Нужно согласование с директором",
    "Отправить образцы",
)
TASK_TITLES: dict[str, tuple[str, ...]] = {
    choices.TaskKind.TOUCH: (
        "Позвонить: уточнить потребность на месяц",
        "Поздравить с праздником, узнать планы",
        "Отправить новый прайс-лист",
    ),
    choices.TaskKind.REACTIVATION: (
        "Реактивация: выяснить причину паузы в заказах",
        "Предложить условия для возобновления закупок",
    ),
    choices.TaskKind.ESTIMATE: (
        "Оценить оборот и потенциал клиента",
        "Пересчитать потенциал по торговым точкам",
    ),
    choices.TaskKind.OTHER: (
        "Подготовить договор",
        "Согласовать график поставок",
        "Сверить взаиморасчёты",
    ),
}
PROJECT_TITLES = (
    "Оснащение нового склада",
    "Переоснащение торговой сети",
    "Комплексное снабжение строительного объекта",
    "Годовой контракт на поставку расходных материалов",
    "Оснащение производственной линии",
    "Переход на единого поставщика",
)
NEW_BUSINESS_TITLES = ("Пилотный заказ", "Первая поставка", "Тестовая партия", "Первый контракт")
LOST_REASONS = (
    "Выбрали конкурента с более низкой ценой",
    "Проект заморожен клиентом",
    "Не прошли по срокам поставки",
    "Нет бюджета в этом году",
    "Решение принял головной офис",
)
CLIENT_NOTES = (
    "Закупки через тендерную площадку",
    "Оплата с отсрочкой 30 дней",
    "Приёмка товара только до 16:00",
    "Решения принимает головной офис",
    "Сезонный спрос: пик весной",
)
REJECT_COMMENTS = (
    "Оценка занижена: у клиента несколько торговых точек, пересчитайте по точкам",
    "Не указано основание оценки",
    "Противоречит данным отчётности: оборот клиента выше",
)
TRANSLIT = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}


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


class DemoError(Exception):
    """The demo data cannot be generated or removed as asked."""


@dataclass(frozen=True)
class DemoOptions:
    as_of: date
    clients: int = DEFAULT_CLIENTS
    months: int = DEFAULT_MONTHS
    seed: int = DEFAULT_SEED
    lines: int | None = None  # target number of shipment lines; None: derived

    def validate(self) -> None:
        if self.clients < 1:
            raise DemoError("--clients must be at least 1.")
        if not 1 <= self.months <= 240:
            raise DemoError("--months must be between 1 and 240.")
        if self.lines is not None and self.lines < 0:
            raise DemoError("--lines cannot be negative.")


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    roles: tuple[str, ...]
    teams: tuple[str, ...]


@dataclass
class DemoResult:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    target_lines: int = 0


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------


def existing_data() -> dict[str, int]:
    """What already occupies the places the demo writes to (non-zero counts only).

    Not just clients: products, groups and demo users left without clients
    would collide with the demo's unique SKUs, group names and e-mails.
    """
    counts = {
        "clients": Client.objects.count(),
        "product groups": ProductGroup.objects.count(),
        "products": Product.objects.count(),
        "demo users": User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").count(),
        "demo teams": Team.objects.filter(name__in=DEMO_TEAMS).count(),
    }
    return {name: count for name, count in counts.items() if count}


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


@transaction.atomic
def reset_demo_data() -> list[str]:
    """Remove every CRM row, the demo users and the demo teams.

    Tables of other apps that point at CRM rows are emptied too (their rows
    would only describe the deleted clients); their names are returned.
    History tables are emptied without writing "deleted" history rows, which
    is why this does not go through ``QuerySet.delete()``.
    """
    crm_tables, others = _crm_dependent_tables()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if _is_postgres():
            # TRUNCATE refuses tables with foreign-key checks still queued in
            # this transaction (a reset right after a seed): run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            names = ", ".join(quote(t) for t in crm_tables + others)
            cursor.execute(f"TRUNCATE TABLE {names} RESTART IDENTITY")
        else:
            for table in others + crm_tables:
                cursor.execute(f"DELETE FROM {quote(table)}")
    demo_users = User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}")
    teams = Team.objects.filter(Q(name__in=DEMO_TEAMS) | Q(head__in=demo_users))
    team_ids = list(teams.values_list("id", flat=True))
    if Team.objects.filter(parent_id__in=team_ids).exclude(id__in=team_ids).exists():
        raise DemoError("Teams outside the demo are placed under a demo team: move them first.")
    Team.objects.filter(id__in=team_ids).update(parent=None, head=None)
    Team.objects.filter(id__in=team_ids).delete()
    demo_users.delete()
    return others


def generate_demo(options: DemoOptions, progress: Progress | None = None) -> DemoResult:
    """Build the whole demo in one transaction and return what was written."""
    options.validate()
    say = progress or (lambda message: None)
    started = clock.perf_counter()
    with transaction.atomic():
        builder = _Builder(options, say)
        builder.run()
    builder.result.seconds = clock.perf_counter() - started
    return builder.result


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def inn_check_digit(first_nine: str) -> str:
    """The check digit of a company's 10-digit INN."""
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return str(sum(w * int(d) for w, d in zip(weights, first_nine, strict=True)) % 11 % 10)


def make_inn(region_code: int, rnd: random.Random) -> str:
    """A checksum-valid company INN: region, tax office, serial, check digit."""
    body = f"{region_code:02d}{rnd.randint(1, 40):02d}{rnd.randint(0, 99_999):05d}"
    return body + inn_check_digit(body)


def translit(text: str) -> str:
    """Latin letters for e-mail addresses and web sites."""
    return "".join(TRANSLIT.get(ch, ch) for ch in text.lower())


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clipped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_month - timedelta(days=1)).day))


def _is_postgres() -> bool:
    return "postgresql" in connection.settings_dict["ENGINE"]


def _crm_dependent_tables() -> tuple[list[str], list[str]]:
    """The CRM app's tables, and other apps' tables that point at them (recursively)."""
    crm_models = list(apps.get_app_config("crm").get_models(include_auto_created=True))
    crm_tables = [m._meta.db_table for m in crm_models]
    covered = {m._meta.label for m in crm_models}
    others: list[str] = []
    changed = True
    while changed:
        changed = False
        for model in apps.get_models(include_auto_created=True):
            if model._meta.label in covered or not model._meta.managed:
                continue
            for fld in model._meta.concrete_fields:
                target = fld.related_model if fld.is_relation else None
                if target is None or not getattr(fld, "db_constraint", True):
                    continue
                if isinstance(target, type) and target._meta.label in covered:
                    covered.add(model._meta.label)
                    others.append(model._meta.db_table)
                    changed = True
                    break
    return crm_tables, others


def _allocate(total: int, shares: dict[int, float], rest: int) -> list[int]:
    """Kinds for ``total`` items by share, at least one of each when there is room."""
    counts: dict[int, int] = {}
    for kind, share in shares.items():
        counts[kind] = max(1 if total >= 2 * len(shares) else 0, round(total * share))
    while sum(counts.values()) > total:
        largest = max(counts, key=lambda k: counts[k])
        counts[largest] -= 1
    kinds = [kind for kind, count in counts.items() for _ in range(count)]
    return kinds + [rest] * (total - len(kinds))


# ---------------------------------------------------------------------------
# Fixed-width ASCII formatting of numbers for COPY
# ---------------------------------------------------------------------------
# Shipment lines are formatted as a byte matrix, one row per line, where
# unused leading digit positions hold NUL bytes; removing the NULs from the
# whole buffer at the end gives ordinary CSV. This is ~20x faster than
# formatting 10 M rows with Python strings.


def _ascii_int(values: npt.NDArray[np.integer[Any]], min_digits: int = 1) -> ByteMatrix:
    """Right-aligned digits of non-negative integers; unused leading places are NUL.

    The matrix is as wide as the largest value needs, and filled a column
    at a time with one vectorised divmod each.
    """
    largest = int(values.max()) if len(values) else 0
    width = max(min_digits, len(str(largest)))
    out = np.empty((len(values), width), dtype=np.uint8)
    rest = values.copy()
    for place in range(width):  # place 0 is the units
        rest, digit = np.divmod(rest, 10)
        column = digit.astype(np.uint8) + 48
        if place >= min_digits:
            column[values < 10**place] = 0
        out[:, width - 1 - place] = column
    return out


def _ascii_decimal(scaled: IntArray, decimals: int) -> ByteMatrix:
    """A signed decimal given as an integer count of its smallest unit."""
    factor = 10**decimals
    magnitude = np.abs(scaled)
    sign = np.where(scaled < 0, ord("-"), 0).astype(np.uint8)[:, None]
    dot = np.full((len(scaled), 1), ord("."), dtype=np.uint8)
    return np.hstack(
        [
            sign,
            _ascii_int(magnitude // factor),
            dot,
            _ascii_int(magnitude % factor, decimals),
        ]
    )


def _compact(matrix: ByteMatrix) -> bytes:
    """The matrix's bytes without the NUL padding: plain CSV text."""
    flat = matrix.ravel()
    return flat[flat != 0].tobytes()


def _byte_table(texts: Sequence[str]) -> ByteMatrix:
    """UTF-8 texts as NUL-padded rows of a matrix, for fancy indexing."""
    encoded = [t.encode() for t in texts]
    width = max((len(e) for e in encoded), default=1) or 1
    table = np.zeros((len(encoded), width), dtype=np.uint8)
    for row, data in enumerate(encoded):
        table[row, : len(data)] = np.frombuffer(data, dtype=np.uint8)
    return table


def _column(byte: str, rows: int) -> ByteMatrix:
    return np.full((rows, 1), ord(byte), dtype=np.uint8)


# ---------------------------------------------------------------------------
# Writing rows: COPY on PostgreSQL, bulk_create elsewhere
# ---------------------------------------------------------------------------


def _copy_sql(table: str, columns: Sequence[str]) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    return f"COPY {quote(table)} ({names}) FROM STDIN WITH (FORMAT csv)"


def _raw_copy(raw: Any, sql: str, data: bytes) -> None:
    """COPY bytes through a driver cursor: psycopg2 or psycopg 3."""
    if hasattr(raw, "copy_expert"):
        raw.copy_expert(sql, io.BytesIO(data))
    else:
        with raw.copy(sql) as copy:
            copy.write(data)


def _copy(table: str, columns: Sequence[str], data: bytes) -> None:
    """COPY CSV bytes into a table through the connection's raw cursor."""
    with connection.cursor() as cursor:
        _raw_copy(cursor.cursor, _copy_sql(table, columns), data)


class _CopyWriter:
    """COPY chunks in a background thread while the caller builds the next one.

    The thread uses the raw driver cursor of this thread's connection (so the
    rows join the same transaction), and never at the same time as the
    caller: ``write`` waits for the previous chunk first. At most two chunks
    exist at once, which keeps memory bounded. The driver releases the GIL
    while PostgreSQL works, so numpy generation and the server overlap.
    """

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        self.sql = _copy_sql(table, columns)
        self.pending: Future[None] | None = None

    def __enter__(self) -> _CopyWriter:
        self.cursor = connection.cursor()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed-demo-copy")
        return self

    def write(self, data: bytes) -> None:
        self.wait()
        self.pending = self.pool.submit(_raw_copy, self.cursor.cursor, self.sql, data)

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()  # re-raises the COPY's error here

    def __exit__(self, *exc_info: object) -> None:
        try:
            if exc_info[0] is None:
                self.wait()
            elif self.pending is not None:
                self.pending.exception()  # let it finish; the first error wins
        finally:
            self.pool.shutdown(wait=True)
            self.cursor.close()


@contextmanager
def _bulk_load(model: type[models.Model]) -> Iterator[None]:
    """On PostgreSQL, fill ``model``'s table without its secondary indexes and
    foreign keys, then rebuild each in one pass.

    Django creates foreign keys DEFERRABLE INITIALLY DEFERRED, so every row
    COPY writes would queue a check that runs at COMMIT: gigabytes of queue
    and minutes of checks for 10 M lines. Re-adding a constraint validates
    all rows with one join instead. DDL is transactional: if anything fails,
    the schema is rolled back with the data. The table must be empty.
    """
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Run the checks already queued now: ALTER TABLE refuses pending ones.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [quote(table)],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint k"
            "  WHERE k.conrelid = i.indrelid AND k.conindid = i.indexrelid"
            ") ORDER BY c.relname",
            [quote(table)],
        )
        indexes = cursor.fetchall()
        for name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute(f"ANALYZE {quote(table)}")


def _column_name(model: type[models.Model], name: str) -> str:
    """The database column of a field given by name or attname (``client_id``)."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.column)


def _insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Write plain rows (no history) of ``model``: COPY on PostgreSQL, else bulk_create."""
    count = 0
    postgres = _is_postgres()
    db_columns = [_column_name(model, c) for c in columns]
    for batch in _batched(rows, 50_000 if postgres else ROWS_PER_BATCH):
        if postgres:
            buffer = io.StringIO()
            # QUOTE_NOTNULL: "" stays an empty string, None becomes NULL.
            csv.writer(buffer, quoting=csv.QUOTE_NOTNULL, lineterminator="\n").writerows(batch)
            _copy(model._meta.db_table, db_columns, buffer.getvalue().encode())
        else:
            model._default_manager.bulk_create(
                [model(**dict(zip(columns, row, strict=True))) for row in batch],
                batch_size=1000,
            )
        count += len(batch)
        reset_queries()
    return count


def _create_with_history(
    model: type[models.Model], objects: Iterable[Any], admin: User
) -> list[Any]:
    """bulk_create with one "+" history row per object, dated as the object's
    ``_history_date`` and attributed to the demo administrator."""
    created: list[Any] = []
    for batch in _batched(objects, ROWS_PER_BATCH):
        created.extend(
            bulk_create_with_history(
                batch,
                model,
                batch_size=1000,
                default_user=admin,
                default_change_reason=CHANGE_REASON,
            )
        )
        reset_queries()  # DEBUG keeps every statement; these are large
    return created


def _batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# ---------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _EstimateSpec:
    """What distinguishes one estimate row of a client from another."""

    client: int
    amount: float
    kind: str
    status: str
    day: int
    year: int
    basis: str
    comment: str = ""
    group: int | None = None


@dataclass
class _Docs:
    """Every shipment document, sorted by client, date and number."""

    client: SmallIntArray
    day: SmallIntArray
    number: SmallIntArray
    is_return: BoolArray
    lines: SmallIntArray


class _Builder:
    """Generates the demo step by step; each step consumes the random streams in a fixed order."""

    def __init__(self, options: DemoOptions, say: Progress) -> None:
        self.opt = options
        self.say = say
        self.rnd = random.Random(options.seed)
        self.rng = np.random.default_rng(options.seed)
        self.result = DemoResult()
        self.tz = timezone.get_default_timezone()
        self.as_of = options.as_of
        self.start = add_months(options.as_of, -options.months) + timedelta(days=1)
        self.T = (self.as_of - self.start).days  # as-of as a day number; window is [0, T]
        self.step_started = clock.perf_counter()

    # -- plumbing --------------------------------------------------------

    def run(self) -> None:
        self._staff()
        self._catalogue()
        self._plan_clients()
        self._create_clients()
        self._shipments()
        self._contacts()
        self._activities()
        self._ownership_and_grants()
        self._tasks()
        self._deals()
        self._estimates()
        if _is_postgres():
            with connection.cursor() as cursor:
                for model in (Client, Contact, Activity, Product):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    def _done(self, what: str, count: int) -> None:
        self.result.counts[what] = count
        now = clock.perf_counter()
        self.say(f"  {what:<22} {count:>12,}   {now - self.step_started:6.1f} s")
        self.step_started = now

    def at(self, day: int, hour: int = 10, minute: int = 0) -> datetime:
        """An aware moment on window day ``day`` (may be before the window)."""
        return datetime.combine(self.start + timedelta(days=day), time(hour, minute), self.tz)

    def workday(self, day: int) -> int:
        """The day itself, or the Friday before when it falls on a weekend."""
        weekday = (self.start + timedelta(days=day)).weekday()
        return day - max(0, weekday - 4)

    def person(self) -> tuple[str, str, str, bool]:
        """(first name, patronymic, surname, is_female) of a random Russian person."""
        father = self.rnd.choice(MALE_NAMES)
        surname = self.rnd.choice(SURNAMES)
        if self.rnd.random() < 0.5:
            return self.rnd.choice(FEMALE_NAMES), father[2], surname[1], True
        first = self.rnd.choice(MALE_NAMES)
        return first[0], father[1], surname[0], False

    # -- staff -----------------------------------------------------------

    def _staff(self) -> None:
        members = list(CORE_STAFF)
        owners = sum(1 for m in CORE_STAFF if set(m.roles) & {Role.KM, Role.KAM, Role.OFFICE})
        extra = max(0, math.ceil(self.opt.clients / CLIENTS_PER_MANAGER) - owners)
        taken = {m.local for m in members}
        for i in range(extra):
            role = EXTRA_MANAGER_ROLES[i % len(EXTRA_MANAGER_ROLES)]
            first, _, last, _ = self.person()
            local = f"{translit(first)}.{translit(last)}"
            suffix = 2
            while local in taken:
                local = f"{translit(first)}.{translit(last)}{suffix}"
                suffix += 1
            taken.add(local)
            team = KEY_TEAM if role in (Role.KAM, Role.PM) else REGIONAL_TEAM
            members.append(StaffMember(local, first, last, (role,), team))
        password = make_password(DEMO_PASSWORD)  # hashed once: hashing is slow by design
        joined = self.at(-400)
        users = [
            User(
                email=f"{m.local}@{DEMO_DOMAIN}",
                first_name=m.first_name,
                last_name=m.last_name,
                password=password,
                is_staff=Role.ADMIN in m.roles,
                is_superuser=Role.ADMIN in m.roles,
                date_joined=joined,
            )
            for m in members
        ]
        users = User.objects.bulk_create(users)
        UserRole.objects.bulk_create(
            [UserRole(user=u, role=r) for u, m in zip(users, members, strict=True) for r in m.roles]
        )
        by_local = {m.local: u for m, u in zip(members, users, strict=True)}
        teams: dict[str, Team] = {}
        for name, parent in ((TOP_TEAM, None), (KEY_TEAM, TOP_TEAM), (REGIONAL_TEAM, TOP_TEAM)):
            head = next(by_local[m.local] for m in members if m.heads == name)
            teams[name] = Team.objects.create(
                name=name, parent=teams[parent] if parent else None, head=head
            )
        through = Team.members.through
        through.objects.bulk_create(
            [
                through(team_id=teams[m.team].pk, user_id=u.pk)
                for m, u in zip(members, users, strict=True)
                if m.team
            ]
        )
        self.users = users
        self.emails = [u.email for u in users]
        self.admin = by_local["admin"]
        self.by_role: dict[str, list[int]] = {}
        for index, member in enumerate(members):
            for code in member.roles:
                self.by_role.setdefault(code, []).append(index)
        self.roles_of = [frozenset(m.roles) for m in members]
        head_index = {m.heads: i for i, m in enumerate(members) if m.heads}
        # Who verifies a user's estimates: the head of the user's team.
        self.reviewer = [head_index.get(m.team or TOP_TEAM, head_index[TOP_TEAM]) for m in members]
        self._done("users", len(users))

    def pick(self, role: str) -> int:
        return self.rnd.choice(self.by_role[role])

    # -- catalogue -------------------------------------------------------

    def _catalogue(self) -> None:
        n_groups = min(len(PRODUCT_GROUPS), 8 + self.opt.clients // 1000)
        groups = ProductGroup.objects.bulk_create(
            [
                ProductGroup(name=name, code=f"G{i + 1:02d}")
                for i, (name, _, _) in enumerate(PRODUCT_GROUPS[:n_groups])
            ]
        )
        n_products = min(MAX_PRODUCTS, max(n_groups * 10, self.opt.clients * 4 // 3))
        rng = self.rng
        # Groups differ in size; products are stored contiguously by group.
        group_share = rng.dirichlet(np.full(n_groups, 4.0))
        per_group = np.maximum(5, np.floor(group_share * n_products)).astype(np.int64)
        per_group[np.argmax(per_group)] += n_products - per_group.sum()
        product_group = np.repeat(np.arange(n_groups), per_group)
        base = np.array([g[1] for g in PRODUCT_GROUPS[:n_groups]])
        price = base[product_group] * rng.lognormal(0.0, 0.6, n_products)
        self.price_kop = np.maximum(100, np.round(price * 100)).astype(np.int64)
        self.whole_units = np.array([g[2] for g in PRODUCT_GROUPS[:n_groups]])[product_group]
        # Popularity: a few SKUs sell far more than the long tail (Zipf-like).
        popularity = 1.0 / rng.permutation(np.arange(1, n_products + 1)) ** 0.9
        group_start = np.concatenate([[0], np.cumsum(per_group)])
        cdf = np.empty(n_products)
        for g in range(n_groups):
            lo, hi = group_start[g], group_start[g + 1]
            cdf[lo:hi] = g + np.cumsum(popularity[lo:hi]) / popularity[lo:hi].sum()
        self.group_cdf = cdf  # group g occupies (g, g + 1]: one searchsorted picks a SKU
        self.group_start = group_start
        self.product_group = product_group
        self.group_weight = group_share
        self.n_groups = n_groups
        products: list[Product] = []
        for i in range(n_products):
            name = PRODUCT_GROUPS[int(product_group[i])][0]
            products.append(
                Product(
                    sku=f"SKU-{i + 1:05d}",
                    name=f"{self.rnd.choice(PRODUCT_ITEMS[name])} {self.rnd.choice(BRANDS)}, "
                    f"{self.rnd.choice(PACKS[name])}",
                    group=groups[int(product_group[i])],
                )
            )
        created = Product.objects.bulk_create(products, batch_size=1000)
        self.product_pk = np.array([p.pk for p in created], dtype=np.int64)
        self.group_pk = [g.pk for g in groups]
        self.groups = groups
        self._done("product groups", len(groups))
        self._done("products", n_products)

    # -- client plan -----------------------------------------------------

    def _plan_clients(self) -> None:
        """Decide every client's kind, size, type, identity and order window."""
        n, rng, rnd, T = self.opt.clients, self.rng, self.rnd, self.T
        kind = np.array(_allocate(n, KIND_SHARES, ACTIVE), dtype=np.int64)
        kind = kind[rng.permutation(n)]
        if T < 130:  # too short a window to fall asleep or be lost
            kind[(kind == SLEEPING) | (kind == LOST)] = ACTIVE
        elif T < 430:
            kind[kind == LOST] = SLEEPING
        sales = rng.choice(4, size=n, p=SALES_TYPE_SHARES)
        sleepy = kind == SLEEPING  # sleeping is a notion of frequent buyers
        sales[sleepy] = rng.choice(2, size=int(sleepy.sum()), p=(0.55, 0.45))
        # Size: lognormal yearly revenue, so a few large clients make most of it.
        size = TYPICAL_REVENUE * rng.lognormal(0.0, 1.5, n) * np.array([1.0, 1.2, 1.6, 3.0])[sales]
        weights = np.array([r[4] for r in REGIONS])
        region = rng.choice(len(REGIONS), size=n, p=weights / weights.sum())
        industry_w = np.array(INDUSTRY_WEIGHTS, dtype=float)
        industry = rng.choice(len(INDUSTRIES), size=n, p=industry_w / industry_w.sum())
        self.kind, self.sales, self.size = kind, sales, size
        self.region, self.industry = region, industry

        # Branches share their company's INN and differ by KPP (~10 % of clients).
        n_branches = round(n * 0.10) if n >= 10 else 0
        order = rng.permutation(n)
        branch_ids = order[:n_branches]
        heads = order[n_branches:]
        branch_of = np.full(n, -1, dtype=np.int64)
        if n_branches:
            p = np.sqrt(size[heads])
            branch_of[branch_ids] = rng.choice(heads, size=n_branches, p=p / p.sum())
        parent = np.full(n, -1, dtype=np.int64)
        linked = rng.random(n) < 0.6
        parent[(branch_of >= 0) & linked] = branch_of[(branch_of >= 0) & linked]
        # A few holdings: subsidiaries with their own INN under a large company.
        has_branches = np.zeros(n, dtype=bool)
        has_branches[branch_of[branch_of >= 0]] = True
        free = heads[~has_branches[heads]]
        n_holdings = max(1, n // 150) if n >= 30 else 0
        if n_holdings and len(free) > 4 * n_holdings:
            by_size = free[np.argsort(-size[free], kind="stable")]
            holdings = by_size[:n_holdings]
            pool = by_size[n_holdings:]
            subs = rng.choice(pool, size=min(len(pool), n_holdings * 3), replace=False)
            parent[subs] = rng.choice(holdings, size=len(subs))
        self.parent = parent

        names: list[str] = [""] * n
        inns: list[str] = [""] * n
        kpps: list[str] = [""] * n
        domains: list[str] = [""] * n
        used_names: set[str] = set()
        used_inns: set[str] = set()
        kpp_taken: dict[str, set[str]] = {}
        for i in map(int, heads):
            base = self._company_base(used_names)
            names[i] = base[0]
            domains[i] = base[1]
            inn = make_inn(REGIONS[int(region[i])][2], rnd)
            while inn in used_inns:
                inn = make_inn(REGIONS[int(region[i])][2], rnd)
            used_inns.add(inn)
            inns[i] = inn
            kpps[i] = f"{inn[:4]}01001"
            kpp_taken[inn] = {"001"}
        for i in map(int, branch_ids):
            company = int(branch_of[i])
            inn = inns[company]
            city = REGIONS[int(region[i])][1]
            name = f"{names[company]} (филиал, {city})"
            number = 2
            while name in used_names:
                name = f"{names[company]} (филиал № {number}, {city})"
                number += 1
            used_names.add(name)
            names[i], domains[i], inns[i] = name, domains[company], inn
            serial = f"{rnd.randint(2, 999):03d}"
            while serial in kpp_taken[inn]:
                serial = f"{rnd.randint(2, 999):03d}"
            kpp_taken[inn].add(serial)
            kpps[i] = f"{inn[:4]}01{serial}"
        self.names, self.inns, self.kpps, self.domains = names, inns, kpps, domains

        # Order windows: day numbers lo..hi inside [0, T]; pinned ends are exact.
        lo = np.zeros(n, dtype=np.int64)
        hi = np.full(n, T, dtype=np.int64)
        pin_lo = np.zeros(n, dtype=bool)
        base_f = ORDERS_PER_YEAR[sales]
        started = rng.random(n) < 0.2  # began buying inside the window
        late = rng.integers(0, max(1, T - 150), n)
        recent = np.minimum(20, (180 / base_f).astype(np.int64))
        hi_active = T - (rng.random(n) * (recent + 1)).astype(np.int64)
        act = kind == ACTIVE
        lo[act & started] = late[act & started]
        pin_lo[act & started] = True
        hi[act] = hi_active[act]
        new = kind == NEW
        lo[new] = T - rng.integers(3, max(4, min(86, T)), int(new.sum()))
        pin_lo[new] = True
        hi[new] = np.maximum(lo[new], T - rng.integers(0, 4, int(new.sum())))
        sl = kind == SLEEPING
        hi[sl] = T - rng.integers(120, max(121, min(301, T)), int(sl.sum()))
        lost = kind == LOST
        hi[lost] = T - rng.integers(400, max(401, min(761, T)), int(lost.sum()))
        for mask in (sl, lost):
            moved = mask & started & (hi > 90)
            lo[moved] = (rng.random(n) * (hi - 60).clip(1))[moved].astype(np.int64)
            pin_lo[moved] = True
        hi = np.maximum(hi, lo)
        self.lo, self.hi, self.pin_lo = lo, hi, pin_lo
        self.freq = base_f * np.clip((size / TYPICAL_REVENUE) ** 0.25, 0.5, 4.0)
        self.p_lines = np.clip(0.2 + 0.12 * np.log(size / TYPICAL_REVENUE), 0.05, 0.8)
        self.growth = rng.normal(0.0, 0.5, n)  # yearly trend of order density
        self.discount = rng.choice(
            [1.0, 0.97, 0.95, 0.9, 0.85], size=n, p=(0.4, 0.2, 0.2, 0.15, 0.05)
        )
        self.discount[size > np.quantile(size, 0.9)] *= 0.95
        # Created: clients buying since before the window were entered long ago.
        created = np.where(
            kind == PROSPECT,
            T - rng.integers(5, max(6, min(400, T)), n),
            lo - rng.integers(10, 120, n),
        )
        created = np.where(~pin_lo & (kind != PROSPECT), -rng.integers(30, 1500, n), created)
        self.created_day = created

        # Owners by the conveyor (domain: "Sales types"); the largest go to KAMs.
        buying = kind != PROSPECT
        owner = np.zeros(n, dtype=np.int64)
        initial = np.zeros(n, dtype=np.int64)
        kam_cut = np.quantile(size[buying], 0.97) if buying.any() else np.inf
        type_role = (Role.OFFICE, Role.KM, Role.KM, Role.PM)
        for i in range(n):
            if kind[i] == PROSPECT or (kind[i] == NEW and rnd.random() < 0.7):
                owner[i] = self.pick(Role.DEVELOPER)
            elif size[i] >= kam_cut and sales[i] != 3:
                owner[i] = self.pick(Role.KAM)
            else:
                owner[i] = self.pick(type_role[int(sales[i])])
            initial[i] = owner[i]
            handed_over = kind[i] != PROSPECT and rnd.random() < 0.5
            if handed_over and Role.DEVELOPER not in self.users_roles(int(owner[i])):
                # A developer made the first sale, then handed the client over.
                initial[i] = self.pick(Role.DEVELOPER)
        self.owner, self.initial_owner = owner, initial
        self.buying = buying

    def users_roles(self, index: int) -> frozenset[str]:
        return self.roles_of[index]

    def _company_base(self, used: set[str]) -> tuple[str, str]:
        """A new company name with its legal form, and a web domain for it."""
        rnd = self.rnd
        for attempt in range(50):
            if rnd.random() < 0.6:
                adjective = rnd.choice(ADJECTIVES)
                nouns = (NOUNS_M, NOUNS_F, NOUNS_N)
                gender = rnd.choices(range(3), weights=[len(group) for group in nouns])[0]
                noun = rnd.choice(nouns[gender])
                core = f"{adjective[gender]} {noun.lower()}"
            else:
                prefix = rnd.choice(PREFIXES)
                suffix = rnd.choice(SUFFIXES)
                if prefix.lower().startswith(suffix):
                    continue
                core = prefix + suffix
            if attempt > 5 or rnd.random() < 0.15:
                core += rnd.choice(NAME_TAILS)
            if attempt > 30:
                core += f"-{rnd.randint(2, 99)}"
            form = rnd.choices(LEGAL_FORMS, weights=LEGAL_FORM_WEIGHTS)[0]
            name = f"{form} «{core}»"
            if name not in used:
                used.add(name)
                slug = "".join(c if c.isalnum() else "-" for c in translit(core)).strip("-")
                return name, f"{slug}.ru"
        raise DemoError("Ran out of company names.")  # pragma: no cover - 50 tries

    # -- clients ---------------------------------------------------------

    def _create_clients(self) -> None:
        """Clients without a holding first, then those pointing at one (ids needed)."""
        n, rnd = self.opt.clients, self.rnd
        ext = np.zeros(n, dtype=np.int64)
        buying_ids = np.flatnonzero(self.buying)
        ext[buying_ids] = self.rng.permutation(len(buying_ids)) + 1
        motivations = [m.value for m in choices.MotivationType]
        rows: list[Client] = []
        for i in range(n):
            region, city, _, phone_code, _ = REGIONS[int(self.region[i])]
            size = float(self.size[i])
            big = size > 8 * TYPICAL_REVENUE
            outlets = (
                rnd.randint(10, 60)
                if big and rnd.random() < 0.6
                else rnd.choice((1, 1, 1, 2, 2, 3))
            )
            employees = max(3, int(size / 40_000 * rnd.lognormvariate(0, 0.5)))
            stage = choices.ConveyorStage.ACCOUNT
            if not self.buying[i]:
                stage = rnd.choice((choices.ConveyorStage.LEAD, choices.ConveyorStage.QUALIFIED))
            client = Client(
                name=self.names[i],
                inn=self.inns[i],
                kpp=self.kpps[i],
                external_id=f"K-{ext[i]:06d}" if ext[i] else "",
                region=region,
                industry=INDUSTRIES[int(self.industry[i])],
                employees=employees,
                outlets=outlets,
                sales_type=SALES_TYPES[int(self.sales[i])],
                conveyor_stage=stage,
                motivation_type=rnd.choice(motivations) if rnd.random() < 0.4 else "",
                owner_id=self.users[int(self.owner[i])].pk,
                address=f"г. {city}, ул. {rnd.choice(STREETS)}, д. {rnd.randint(1, 120)}",
                phone=f"+7 ({phone_code}) {rnd.randint(200, 999)}-{rnd.randint(10, 99)}-"
                f"{rnd.randint(10, 99)}",
                email=f"info@{self.domains[i]}" if rnd.random() < 0.7 else "",
                website=self.domains[i] if rnd.random() < 0.5 else "",
                note=rnd.choice(CLIENT_NOTES) if rnd.random() < 0.15 else "",
                created_at=self.at(int(self.created_day[i]), 9 + i % 9, (i * 7) % 60),
            )
            client._history_date = client.created_at  # type: ignore[attr-defined]
            rows.append(client)
        pk = np.zeros(n, dtype=np.int64)
        first = [i for i in range(n) if self.parent[i] < 0]
        for obj, i in zip(
            _create_with_history(Client, (rows[i] for i in first), self.admin), first, strict=True
        ):
            pk[i] = obj.pk
        second = [i for i in range(n) if self.parent[i] >= 0]
        for i in second:
            rows[i].parent_id = int(pk[self.parent[i]])
        for obj, i in zip(
            _create_with_history(Client, (rows[i] for i in second), self.admin), second, strict=True
        ):
            pk[i] = obj.pk
        self.client_pk = pk
        self._done("clients", n)

    # -- shipments -------------------------------------------------------

    def _target_lines(self) -> int:
        if self.opt.lines is not None:
            return self.opt.lines
        return round(LINES_PER_CLIENT_YEAR * int(self.buying.sum()) * self.opt.months / 12)

    def _plan_documents(self) -> _Docs:
        """Every document of every client as a few narrow numpy arrays.

        Millions of documents are the plan's largest arrays, so temporaries
        are computed in place and dropped as soon as they are used.
        """
        rng, T = self.rng, self.T
        buyers = np.flatnonzero(self.buying)
        span = np.maximum(self.hi - self.lo, 1)[buyers] / 365.0
        lines_per_doc = 1 + 7 * self.p_lines[buyers]
        target = self._target_lines()
        self.result.target_lines = target
        expected = float((self.freq[buyers] * span * lines_per_doc).sum())
        self.scale = target / expected if expected else 0.0  # docs per "typical" doc
        n_orders = np.maximum(1, rng.poisson(self.freq[buyers] * span * self.scale))
        client = np.repeat(buyers.astype(np.int32), n_orders)
        total = len(client)
        first_of = np.concatenate([[0], np.cumsum(n_orders)[:-1]]).astype(np.int64)
        last_of = first_of + n_orders - 1
        # Dates follow each client's trend: density proportional to exp(g * t)
        # on [lo, hi], drawn by inverting the distribution function.
        width = (self.hi - self.lo).astype(float)
        u = rng.random(total)
        g = (self.growth * width / 365.0)[client]
        flat = np.abs(g) < 1e-6
        g[flat] = 1.0
        frac = np.expm1(g)
        frac *= u
        np.log1p(frac, out=frac)
        frac /= g
        frac[flat] = u[flat]
        del g, u, flat
        frac *= width[client]
        frac += self.lo[client]
        day = frac.astype(np.int32)
        del frac
        day[last_of] = self.hi[buyers]
        # A pinned first order wins over the last only for a client with one
        # order that is new; a lone order of a sleeping client stays late.
        pinned = self.pin_lo[buyers] & ((n_orders > 1) | (self.kind[buyers] == NEW))
        day[first_of[pinned]] = self.lo[buyers][pinned]
        day = self._workdays(day)
        # Returns: ~2 % of documents, a few days after one of the client's orders.
        n_returns = rng.binomial(n_orders, RETURN_SHARE / (1 - RETURN_SHARE))
        ret_client = np.repeat(buyers.astype(np.int32), n_returns)
        ret_source = np.repeat(first_of, n_returns) + (
            rng.random(len(ret_client)) * np.repeat(n_orders, n_returns)
        ).astype(np.int64)
        ret_day = np.minimum(T, day[ret_source] + rng.integers(1, 15, len(ret_client)))
        ret_day = np.maximum(self._workdays(ret_day), day[ret_source]).astype(np.int32)
        lines = (1 + rng.binomial(7, self.p_lines[client])).astype(np.int8)
        ret_lines = (1 + rng.binomial(1, 0.3, len(ret_client))).astype(np.int8)
        all_client = np.concatenate([client, ret_client])
        all_day = np.concatenate([day, ret_day])
        del client, day
        is_return = np.concatenate([np.zeros(total, bool), np.ones(len(ret_client), bool)])
        all_lines = np.concatenate([lines, ret_lines])
        del lines
        # Date order with a random order within each day; numbers follow it.
        by_date = np.argsort(all_day + rng.random(len(all_day)), kind="stable")
        number = self._number_documents(all_day, by_date)
        # Grouped by client, keeping date-and-number order inside each client.
        order = by_date[np.argsort(all_client[by_date], kind="stable")]
        del by_date
        return _Docs(
            client=all_client[order],
            day=all_day[order],
            number=number[order],
            is_return=is_return[order],
            lines=all_lines[order],
        )

    def _workdays(self, day: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Weekend days moved to the Friday before (the Monday after at the window's start)."""
        weekday = (self.start.weekday() + day) % 7
        earlier = day - np.maximum(0, weekday - 4)
        return np.where(earlier >= 0, earlier, day + (7 - weekday) % 7).astype(day.dtype)

    def _number_documents(self, day: SmallIntArray, by_date: IntArray) -> SmallIntArray:
        """ERP-style numbers: in date order, restarting at 1 every 1 January."""
        year_of_day = np.array(
            [(self.start + timedelta(days=d)).year for d in range(self.T + 1)], dtype=np.int32
        )
        years, counts = np.unique(year_of_day[day[by_date]], return_counts=True)
        first_index = np.concatenate([[0], np.cumsum(counts)[:-1]])
        # The window starts mid-year: continue the numbers the ERP issued before it.
        per_day = len(day) / (self.T + 1)
        before = (self.start - date(self.start.year, 1, 1)).days
        first_number = np.where(years == self.start.year, 1 + round(per_day * before), 1)
        ranks = np.arange(len(day), dtype=np.int64)
        ranks += np.repeat(first_number - first_index, counts)
        number = np.empty(len(day), dtype=np.int32)
        number[by_date] = ranks
        return number

    def _shipments(self) -> None:
        docs = self._plan_documents()
        n = self.opt.clients
        # First and last order per client (-1: none) for the ledger and estimates.
        self.last_order = np.full(n, -1, dtype=np.int64)
        orders = ~docs.is_return
        np.maximum.at(self.last_order, docs.client[orders], docs.day[orders])
        first = np.full(n, self.T + 1, dtype=np.int64)
        np.minimum.at(first, docs.client[orders], docs.day[orders])
        self.first_order = np.where(first <= self.T, first, -1)
        self.revenue_12m = np.zeros(n)
        self.revenue_all = np.zeros(n)
        self.group_revenue_12m = np.zeros((n, self.n_groups))
        # Chunks of whole clients holding about LINES_PER_CHUNK lines each.
        per_client = np.bincount(docs.client, weights=docs.lines, minlength=n)
        cumulative = np.cumsum(per_client)
        cuts = np.searchsorted(
            cumulative, np.arange(LINES_PER_CHUNK, cumulative[-1] if n else 0, LINES_PER_CHUNK)
        )
        bounds = np.unique(np.concatenate([[0], cuts + 1, [n]])).clip(0, n)
        doc_bounds = np.searchsorted(docs.client, bounds)
        written = 0
        postgres = _is_postgres()
        self._line_tables()
        with ExitStack() as stack:
            writer = None
            if postgres:
                stack.enter_context(_bulk_load(ShipmentLine))
                writer = stack.enter_context(_CopyWriter(ShipmentLine._meta.db_table, LINE_COLUMNS))
            for a, b in itertools.pairwise(doc_bounds.tolist()):
                if a == b:
                    continue
                chunk = _Docs(
                    client=docs.client[a:b],
                    day=docs.day[a:b],
                    number=docs.number[a:b],
                    is_return=docs.is_return[a:b],
                    lines=docs.lines[a:b],
                )
                lines = self._lines(chunk)
                if writer is not None:
                    writer.write(self._line_csv(chunk, lines))
                else:
                    self._bulk_lines(chunk, lines)
                written += len(lines["doc"])
                reset_queries()
        self.result.counts["documents"] = len(docs.client)
        self.result.counts["returns"] = int(docs.is_return.sum())
        self._done("shipment lines", written)

    def _lines(self, docs: _Docs) -> dict[str, Any]:
        """Lines of a chunk of documents: products, quantities, prices, amounts."""
        rng = self.rng
        clients, local = np.unique(docs.client, return_inverse=True)
        m = len(clients)
        size = self.size[clients]
        # Each client buys from its own assortment within a few preferred groups.
        n_pref = 1 + rng.binomial(self.n_groups - 1, 0.3, m)
        keys = np.log(self.group_weight)[None, :] + rng.gumbel(size=(m, self.n_groups))
        preferred = np.argsort(-keys, axis=1, kind="stable")
        breadth = np.clip(
            np.round(3 + 4 * (size / TYPICAL_REVENUE) ** 0.4 * rng.lognormal(0, 0.3, m)), 2, 400
        ).astype(np.int64)
        offset = np.concatenate([[0], np.cumsum(breadth)[:-1]])
        slot_client = np.repeat(np.arange(m), breadth)
        slot_rank = np.arange(len(slot_client)) - offset[slot_client]
        slot_group = preferred[
            slot_client, (rng.random(len(slot_client)) * n_pref[slot_client]).astype(np.int64)
        ]
        assortment = np.searchsorted(
            self.group_cdf, slot_group + rng.random(len(slot_client)), side="right"
        )
        assortment = np.minimum(assortment, self.group_start[slot_group + 1] - 1)
        # A line picks slot floor(K * u**1.7): the first slots are the client's favourites.
        k = breadth[slot_client].astype(float)
        slot_p = ((slot_rank + 1) / k) ** (1 / 1.7) - (slot_rank / k) ** (1 / 1.7)
        mean_price = np.bincount(
            slot_client, weights=slot_p * self.price_kop[assortment] / 100, minlength=m
        )
        disc = self.discount[clients]
        docs_per_year = self.freq[clients] * self.scale
        per_line = size / np.maximum(docs_per_year * (1 + 7 * self.p_lines[clients]), 1e-9)
        qty_mean = per_line / (mean_price * disc)

        doc_index = np.repeat(np.arange(len(docs.client)), docs.lines)
        line_client = local[doc_index]
        count = len(doc_index)
        pick = (breadth[line_client] * rng.random(count) ** 1.7).astype(np.int64)
        product = assortment[offset[line_client] + pick]
        price = np.round(self.price_kop[product] * disc[line_client]).astype(np.int64)
        raw_qty = qty_mean[line_client] * rng.lognormal(-0.18, 0.6, count)
        whole = self.whole_units[product]
        qty = np.where(
            whole, np.maximum(1, np.round(raw_qty)), np.maximum(0.1, np.round(raw_qty, 1))
        )
        returning = docs.is_return[doc_index]
        qty = np.where(
            returning,
            -np.where(
                whole,
                np.maximum(1, np.round(qty * rng.uniform(0.1, 0.5, count))),
                np.maximum(0.1, np.round(qty * rng.uniform(0.1, 0.5, count), 1)),
            ),
            qty,
        )
        # A few corrections: negative lines inside ordinary documents.
        negative = (
            (~returning) & (docs.lines[doc_index] >= 3) & (rng.random(count) < NEGATIVE_LINE_SHARE)
        )
        qty_milli = np.round(qty * 1000).astype(np.int64)
        amount = np.round(qty_milli * price / 1000).astype(np.int64)
        neg_amount = np.where(negative, amount, 0)
        doc_pos = np.bincount(
            doc_index, weights=np.where(negative, 0, amount), minlength=len(docs.client)
        )
        doc_neg = np.bincount(doc_index, weights=neg_amount, minlength=len(docs.client))
        # Keep the document an order: its corrections stay under half its value.
        keep = negative & (doc_neg[doc_index] < 0.5 * doc_pos[doc_index])
        qty_milli = np.where(keep, -qty_milli, qty_milli)
        amount = np.where(keep, -amount, amount)
        cost = np.round(amount * rng.uniform(0.6, 0.85, count)).astype(np.int64)

        day = docs.day[doc_index]
        global_client = docs.client[doc_index]
        rubles = amount / 100
        n = self.opt.clients
        recent = day > self.T - 365
        self.revenue_all += np.bincount(global_client, weights=rubles, minlength=n)
        self.revenue_12m += np.bincount(global_client[recent], weights=rubles[recent], minlength=n)
        cell = global_client[recent] * self.n_groups + self.product_group[product[recent]]
        self.group_revenue_12m += np.bincount(
            cell, weights=rubles[recent], minlength=n * self.n_groups
        ).reshape(n, self.n_groups)
        return {
            "doc": doc_index,
            "client": global_client,
            "product": product,
            "qty": qty_milli,
            "amount": amount,
            "cost": cost,
            "day": day,
        }

    def _line_tables(self) -> None:
        """Byte tables shared by every chunk: dates and owners' e-mails."""
        days = [(self.start + timedelta(days=d)).isoformat() for d in range(self.T + 1)]
        self.date_bytes = np.frombuffer("".join(days).encode(), dtype=np.uint8).reshape(-1, 10)
        self.email_bytes = _byte_table(self.emails)

    def _line_csv(self, docs: _Docs, lines: dict[str, Any]) -> bytes:
        """The chunk's lines as CSV in LINE_COLUMNS order, formatted by numpy."""
        count = len(lines["doc"])
        prefix = np.frombuffer("РН-".encode(), dtype=np.uint8)
        doc_numbers = np.hstack(
            [np.tile(prefix, (len(docs.number), 1)), _ascii_int(docs.number, 6)]
        )
        comma = _column(",", count)
        matrix = np.hstack(
            [
                doc_numbers[lines["doc"]],
                comma,
                self.date_bytes[lines["day"]],
                comma,
                _ascii_int(self.client_pk[lines["client"]]),
                comma,
                _ascii_int(self.product_pk[lines["product"]]),
                comma,
                _ascii_decimal(lines["qty"], 3),
                comma,
                _ascii_decimal(lines["amount"], 2),
                comma,
                _ascii_decimal(lines["cost"], 2),
                comma,
                self.email_bytes[self.owner[lines["client"]]],
                _column("\n", count),
            ]
        )
        return _compact(matrix)

    def _bulk_lines(self, docs: _Docs, lines: dict[str, Any]) -> None:
        numbers = [f"РН-{n:06d}" for n in docs.number.tolist()]
        dates = [self.start + timedelta(days=d) for d in range(self.T + 1)]
        objects = [
            ShipmentLine(
                doc_number=numbers[d],
                doc_date=dates[day],
                client_id=int(self.client_pk[c]),
                product_id=int(self.product_pk[p]),
                qty=Decimal(q).scaleb(-3),
                amount=Decimal(a).scaleb(-2),
                cost=Decimal(k).scaleb(-2),
                manager_email=self.emails[int(self.owner[c])],
            )
            for d, day, c, p, q, a, k in zip(
                lines["doc"].tolist(),
                lines["day"].tolist(),
                lines["client"].tolist(),
                lines["product"].tolist(),
                lines["qty"].tolist(),
                lines["amount"].tolist(),
                lines["cost"].tolist(),
                strict=True,
            )
        ]
        ShipmentLine.objects.bulk_create(objects, batch_size=2000)

    # -- contacts --------------------------------------------------------

    def _contacts(self) -> None:
        """1–5 people per client; the first is the top decision maker the others report to."""
        rnd, n = self.rnd, self.opt.clients
        counts = []
        for i in range(n):
            extra = math.log10(max(self.size[i], 1) / TYPICAL_REVENUE)
            k = 1 + min(4, max(0, round(rnd.gauss(1.2 + extra, 1.0))))
            counts.append(min(k, 2) if not self.buying[i] else k)
        self.contact_pks: list[list[int]] = [[] for _ in range(n)]
        total = 0
        for start in range(0, n, ROWS_PER_BATCH):
            block = range(start, min(n, start + ROWS_PER_BATCH))
            bosses = [self._contact(i, level="top", boss=None) for i in block]
            for i, obj in zip(
                block, _create_with_history(Contact, bosses, self.admin), strict=True
            ):
                self.contact_pks[i].append(obj.pk)
            others: list[tuple[int, Contact]] = []
            for i in block:
                for _ in range(counts[i] - 1):
                    level = rnd.choices(("top", "middle", "operational"), weights=(15, 45, 40))[0]
                    boss = self.contact_pks[i][0] if level != "top" and rnd.random() < 0.7 else None
                    others.append((i, self._contact(i, level=level, boss=boss)))
            created = _create_with_history(Contact, (c for _, c in others), self.admin)
            for (i, _), obj in zip(others, created, strict=True):
                self.contact_pks[i].append(obj.pk)
            total += len(bosses) + len(others)
        self._done("contacts", total)

    def _contact(self, i: int, *, level: str, boss: int | None) -> Contact:
        rnd = self.rnd
        first, patronymic, last, _female = self.person()
        if level == "top":
            position, department = rnd.choice(TOP_POSITIONS)
            role = (
                choices.DecisionRole.DECISION_MAKER
                if boss is None or rnd.random() < 0.5
                else choices.DecisionRole.INFLUENCER
            )
            influence = choices.Influence.HIGH
        elif level == "middle":
            position, department = rnd.choice(MIDDLE_POSITIONS)
            role = rnd.choices(
                (
                    choices.DecisionRole.INFLUENCER,
                    choices.DecisionRole.BUYING_GROUP,
                    choices.DecisionRole.USER,
                ),
                weights=(40, 45, 15),
            )[0]
            influence = rnd.choice((choices.Influence.MEDIUM, choices.Influence.HIGH))
        else:
            position, department = rnd.choice(OPERATIONAL_POSITIONS)
            role = (
                choices.DecisionRole.GATEKEEPER
                if position == "Секретарь"
                else rnd.choices(
                    (choices.DecisionRole.USER, choices.DecisionRole.BUYING_GROUP), weights=(65, 35)
                )[0]
            )
            influence = rnd.choice((choices.Influence.LOW, choices.Influence.MEDIUM))
        # Entered with the client: activities never predate their contact.
        created_day = int(self.created_day[i])
        contact = Contact(
            client_id=int(self.client_pk[i]),
            full_name=f"{last} {first} {patronymic}",
            position=position,
            department=department,
            level=level,
            phone=f"+7 (9{rnd.randint(10, 99)}) {rnd.randint(100, 999)}-{rnd.randint(10, 99)}-"
            f"{rnd.randint(10, 99)}",
            email=f"{translit(first)[0]}.{translit(last)}@{self.domains[i]}"
            if rnd.random() < 0.7
            else "",
            decision_role=role,
            influence=influence,
            attitude=rnd.choices(ATTITUDES, weights=ATTITUDE_WEIGHTS)[0],
            reports_to_id=boss,
            is_active=rnd.random() < 0.95,
            created_at=self.at(created_day, 11),
        )
        contact._history_date = contact.created_at  # type: ignore[attr-defined]
        return contact

    # -- activities ------------------------------------------------------

    def _activities(self) -> None:
        rnd, T = self.rnd, self.T
        back_office = self.by_role[Role.BACK_OFFICE]
        kinds = [k.value for k in choices.ActivityKind]
        purposes = choices.ActivityPurpose
        durations = {"call": (5, 30), "meeting": (30, 120), "visit": (60, 180)}
        columns = [
            "client_id",
            "contact_id",
            "kind",
            "purpose",
            "initiated_by",
            "occurred_at",
            "duration_minutes",
            "performed_by_id",
            "entered_by_id",
            "summary",
            "outcome",
        ]

        def rows() -> Iterator[tuple[Any, ...]]:
            for i in range(self.opt.clients):
                kind = int(self.kind[i])
                size_factor = min(3.0, (self.size[i] / TYPICAL_REVENUE) ** 0.3)
                if kind == PROSPECT:
                    count, lo, hi = 1 + rnd.randint(0, 2), int(self.created_day[i]), T
                    purpose_pool = [purposes.ACQUISITION]
                elif kind == LOST:
                    last = int(self.last_order[i])
                    count, lo, hi = rnd.randint(0, 3), last - 120, min(T, last + 200)
                    purpose_pool = [purposes.RETENTION, purposes.RETENTION, purposes.SALE]
                elif kind == SLEEPING:
                    count, lo, hi = 1 + rnd.randint(0, 3), T - 365, T
                    purpose_pool = [purposes.RETENTION, purposes.RETENTION, purposes.SALE]
                elif kind == NEW:
                    count, lo, hi = 2 + rnd.randint(0, 4), int(self.created_day[i]), T
                    purpose_pool = [
                        purposes.ACQUISITION,
                        purposes.SALE,
                        purposes.SALE,
                        purposes.SERVICE,
                    ]
                else:
                    count, lo, hi = round(rnd.uniform(2, 6) * size_factor), T - 365, T
                    purpose_pool = (
                        [purposes.SALE] * 4
                        + [purposes.SERVICE] * 3
                        + [purposes.DEVELOPMENT] * 2
                        + [purposes.RETENTION]
                    )
                lo = max(lo, int(self.created_day[i]), 0)
                hi = max(lo, hi)
                owner = self.users[int(self.owner[i])].pk
                consultative = int(self.sales[i]) >= 2
                for _ in range(count):
                    activity_kind = rnd.choices(
                        kinds, weights=(30, 25, 20, 20, 5) if consultative else (50, 12, 8, 25, 5)
                    )[0]
                    purpose = rnd.choice(purpose_pool)
                    span = durations.get(activity_kind)
                    day = max(lo, self.workday(rnd.randint(lo, hi)))
                    yield (
                        int(self.client_pk[i]),
                        rnd.choice(self.contact_pks[i]) if rnd.random() < 0.85 else None,
                        activity_kind,
                        purpose,
                        choices.Initiator.CLIENT if rnd.random() < 0.25 else choices.Initiator.US,
                        self.at(min(day, T), rnd.randint(9, 17), rnd.choice((0, 15, 30, 45))),
                        rnd.randint(*span) if span else None,
                        owner,
                        self.users[rnd.choice(back_office)].pk if rnd.random() < 0.15 else owner,
                        rnd.choice(ACTIVITY_SUMMARIES[purpose]),
                        rnd.choice(ACTIVITY_OUTCOMES) if rnd.random() < 0.4 else "",
                    )

        self._done("activities", _insert_rows(Activity, columns, rows()))

    # -- ownership ledger and access grants --------------------------------

    def _ownership_and_grants(self) -> None:
        rnd, T = self.rnd, self.T
        changes: list[tuple[Any, ...]] = []
        grants: list[ClientGrant] = []
        granted: set[tuple[int, int, str]] = set()
        admin = self.admin.pk
        for i in range(self.opt.clients):
            client, owner, initial = (
                int(self.client_pk[i]),
                int(self.owner[i]),
                int(self.initial_owner[i]),
            )
            created = self.at(int(self.created_day[i]), 9)
            changes.append(
                (
                    client,
                    None,
                    self.users[initial].pk,
                    choices.OwnershipChangeKind.INITIAL,
                    admin,
                    created,
                    "",
                )
            )
            if initial != owner and self.first_order[i] >= 0:
                day = min(T, int(self.first_order[i]) + rnd.randint(5, 45))
                head = self.users[self.reviewer[owner]].pk
                changes.append(
                    (
                        client,
                        self.users[initial].pk,
                        self.users[owner].pk,
                        choices.OwnershipChangeKind.HANDOFF,
                        head,
                        self.at(day, 15),
                        "Передача после первой продажи",
                    )
                )
            roles = self.users_roles(owner)
            candidate: tuple[int, str, str] | None = None
            if (
                int(self.sales[i]) == 2
                and Role.KM in roles
                and self.buying[i]
                and rnd.random() < 0.5
            ):
                candidate = (
                    self.pick(Role.PM),
                    choices.GrantReason.CO_OWNER,
                    choices.GrantLevel.EDIT,
                )
            elif Role.KM in roles and self.size[i] > 6 * TYPICAL_REVENUE and rnd.random() < 0.4:
                candidate = (self.pick(Role.KAM), choices.GrantReason.KAM, choices.GrantLevel.READ)
            elif int(self.kind[i]) == NEW and Role.DEVELOPER in roles and rnd.random() < 0.5:
                candidate = (
                    self.pick(Role.KM),
                    choices.GrantReason.CO_OWNER,
                    choices.GrantLevel.EDIT,
                )
            if candidate and candidate[0] != owner:
                granted.add((i, candidate[0], candidate[1]))
                grant = ClientGrant(
                    client_id=client,
                    user_id=self.users[candidate[0]].pk,
                    level=candidate[2],
                    reason=candidate[1],
                    granted_by_id=self.users[self.reviewer[owner]].pk,
                    granted_at=self.at(
                        min(T, max(int(self.created_day[i]), 0) + rnd.randint(0, 30)), 12
                    ),
                )
                grant._history_date = grant.granted_at  # type: ignore[attr-defined]
                grants.append(grant)
        columns = [
            "client_id",
            "from_user_id",
            "to_user_id",
            "kind",
            "changed_by_id",
            "changed_at",
            "note",
        ]
        self._done("ownership changes", _insert_rows(OwnershipChange, columns, changes))
        self.granted = granted
        self.pending_grants = grants

    # -- tasks -----------------------------------------------------------

    def _tasks(self) -> None:
        rnd, T = self.rnd, self.T
        tasks: list[Task] = []
        for i in range(self.opt.clients):
            kind = int(self.kind[i])
            if rnd.random() > (0.5 if kind in (PROSPECT, SLEEPING, NEW) else 0.3):
                continue
            owner = self.users[int(self.owner[i])]
            if kind == SLEEPING:
                task_kind = choices.TaskKind.REACTIVATION
            elif kind != PROSPECT and rnd.random() < 0.25:
                task_kind = choices.TaskKind.ESTIMATE
            else:
                task_kind = rnd.choice((choices.TaskKind.TOUCH, choices.TaskKind.OTHER))
            # As seen on the as-of date: a quarter overdue, some due that day, the rest
            # ahead; the first two are one of each, so even a tiny demo shows both.
            when = (0.0, 0.3)[len(tasks)] if len(tasks) < 2 else rnd.random()
            due = (
                T - rnd.randint(1, 30)
                if when < 0.25
                else T
                if when < 0.4
                else T + rnd.randint(1, 30)
            )
            due = max(due, int(self.created_day[i]) + 1)  # never due before it existed
            status, completed = choices.TaskStatus.OPEN, None
            if rnd.random() < 0.15 and due < T and len(tasks) >= 2:
                status, completed = choices.TaskStatus.DONE, self.at(due, 16)
            creator = owner if rnd.random() < 0.8 else self.users[self.reviewer[int(self.owner[i])]]
            created = self.at(
                max(int(self.created_day[i]), min(due, T) - rnd.randint(1, 20)), 9, 30
            )
            task = Task(
                client_id=int(self.client_pk[i]),
                title=rnd.choice(TASK_TITLES[task_kind]),
                kind=task_kind,
                due_on=self.start + timedelta(days=due),
                assignee=owner,
                created_by=creator,
                status=status,
                created_at=created,
                completed_at=completed,
            )
            task._history_date = created  # type: ignore[attr-defined]
            tasks.append(task)
        self._done("tasks", len(_create_with_history(Task, tasks, self.admin)))

    # -- deals -----------------------------------------------------------

    def _deals(self) -> None:
        rnd, T, n = self.rnd, self.T, self.opt.clients
        projects = [i for i in range(n) if self.buying[i] and int(self.sales[i]) >= 2]
        newcomers = [i for i in range(n) if int(self.kind[i]) in (PROSPECT, NEW)]
        wanted = max(3, round(n * 0.04))
        chosen = rnd.sample(projects, min(len(projects), wanted // 2))
        chosen += rnd.sample(newcomers, min(len(newcomers), wanted - len(chosen)))
        stages = [s.value for s in choices.DealStage]
        weights = (15, 12, 15, 10, 8, 22, 18)
        deals: list[Deal] = []
        for number, i in enumerate(chosen):
            project = self.buying[i] and int(self.sales[i]) >= 2 and int(self.kind[i]) != NEW
            stage = (
                ("won", "lost")[number] if number < 2 else rnd.choices(stages, weights=weights)[0]
            )
            created_day = max(int(self.created_day[i]), T - rnd.randint(10, 300))
            closed = min(T, created_day + rnd.randint(10, 120))
            owner = self.pick(Role.PM) if project else int(self.owner[i])
            deal = Deal(
                client_id=int(self.client_pk[i]),
                kind=choices.DealKind.PROJECT if project else choices.DealKind.NEW_BUSINESS,
                title=rnd.choice(PROJECT_TITLES)
                if project
                else f"{rnd.choice(NEW_BUSINESS_TITLES)}: "
                f"{self.groups[rnd.randrange(self.n_groups)].name.lower()}",
                stage=stage,
                amount=Decimal(max(10_000, round(self.size[i] * rnd.uniform(0.1, 0.8), -3))),
                expected_close_on=None
                if stage in ("won", "lost")
                else self.as_of + timedelta(days=rnd.randint(5, 120)),
                owner=self.users[owner],
                closed_on=self.start + timedelta(days=closed) if stage in ("won", "lost") else None,
                lost_reason=rnd.choice(LOST_REASONS) if stage == "lost" else "",
                created_at=self.at(created_day, 12),
            )
            deal._history_date = deal.created_at  # type: ignore[attr-defined]
            deals.append(deal)
            if (
                project
                and owner != int(self.owner[i])
                and (i, owner, choices.GrantReason.PROJECT) not in self.granted
            ):
                self.granted.add((i, owner, choices.GrantReason.PROJECT))
                grant = ClientGrant(
                    client_id=int(self.client_pk[i]),
                    user_id=self.users[owner].pk,
                    level=choices.GrantLevel.EDIT,
                    reason=choices.GrantReason.PROJECT,
                    granted_by_id=self.users[self.reviewer[int(self.owner[i])]].pk,
                    granted_at=deal.created_at,
                )
                grant._history_date = grant.granted_at  # type: ignore[attr-defined]
                self.pending_grants.append(grant)
        self._done("deals", len(_create_with_history(Deal, deals, self.admin)))
        self._done(
            "access grants", len(_create_with_history(ClientGrant, self.pending_grants, self.admin))
        )

    # -- turnover and wallet estimates ----------------------------------------

    def _estimates(self) -> None:
        """Wallets for ~60 % of buying clients at 1.5–20x their yearly revenue.

        The domain says managers under-estimate, so a head verifies or rejects
        each estimate: most are verified, a third are drafts, some rejected
        (and often re-entered higher). A few clients also get per-group
        wallets, a turnover estimate or last year's wallet.
        """
        rnd, T = self.rnd, self.T
        year = self.as_of.year
        rows: list[WalletEstimate] = []
        span_years = np.maximum(self.last_order - np.maximum(self.first_order, 0), 30) / 365.0
        wallets = 0
        for i in range(self.opt.clients):
            if not self.buying[i] or rnd.random() > 0.6:
                continue
            recent = float(self.revenue_12m[i])
            yearly = max(recent if recent > 0 else self.revenue_all[i] / span_years[i], 50_000.0)
            wallet = round(yearly * math.exp(rnd.uniform(math.log(1.5), math.log(20))), -4)
            statuses = (
                choices.EstimateStatus.VERIFIED,
                choices.EstimateStatus.DRAFT,
                choices.EstimateStatus.REJECTED,
            )
            # The first three wallets show one status each, however small the demo.
            wallets += 1
            status = (
                statuses[wallets - 1]
                if wallets <= len(statuses)
                else rnd.choices(statuses, weights=(55, 33, 12))[0]
            )
            day = T - rnd.randint(3, 240)
            by_outlets = rnd.random() < 0.3
            basis = (
                choices.EstimateBasis.OUTLETS
                if by_outlets
                else rnd.choice(
                    (
                        choices.EstimateBasis.CLIENT,
                        choices.EstimateBasis.EXPERT,
                        choices.EstimateBasis.FINANCIALS,
                    )
                )
            )
            base = _EstimateSpec(
                client=i,
                amount=wallet,
                kind=choices.EstimateKind.WALLET,
                status=status,
                day=day,
                year=year,
                basis=basis,
                comment="Оценка по числу торговых точек" if by_outlets else "",
            )
            rows.append(self._estimate(base))
            if status == choices.EstimateStatus.REJECTED and rnd.random() < 0.6:
                rows.append(
                    self._estimate(
                        replace(
                            base,
                            amount=wallet * rnd.uniform(1.5, 3),
                            status=choices.EstimateStatus.DRAFT,
                            day=min(T, day + rnd.randint(15, 40)),
                            comment="",
                        )
                    )
                )
            if status == choices.EstimateStatus.VERIFIED and rnd.random() < 0.3:
                top = np.argsort(-self.group_revenue_12m[i], kind="stable")[: rnd.randint(1, 3)]
                for g in map(int, top):
                    group_revenue = float(self.group_revenue_12m[i, g])
                    if group_revenue > 0:
                        spec = replace(
                            base,
                            amount=group_revenue * rnd.uniform(1.5, 10),
                            group=g,
                            comment="",
                        )
                        rows.append(self._estimate(spec))
            if rnd.random() < 0.3:
                turnover = replace(
                    base,
                    amount=wallet * rnd.uniform(3, 30),
                    kind=choices.EstimateKind.TURNOVER,
                    status=rnd.choice(
                        (choices.EstimateStatus.VERIFIED, choices.EstimateStatus.DRAFT)
                    ),
                    basis=rnd.choice(
                        (choices.EstimateBasis.FINANCIALS, choices.EstimateBasis.CLIENT)
                    ),
                    comment="",
                )
                rows.append(self._estimate(turnover))
            if rnd.random() < 0.15:
                previous = replace(
                    base,
                    amount=wallet * rnd.uniform(0.6, 1.1),
                    status=choices.EstimateStatus.VERIFIED,
                    day=day - 365,
                    year=year - 1,
                    comment="",
                )
                rows.append(self._estimate(previous))
        self._done("estimates", len(_create_with_history(WalletEstimate, rows, self.admin)))

    def _estimate(self, spec: _EstimateSpec) -> WalletEstimate:
        """One estimate row entered by the client's owner, reviewed by their head."""
        owner_index = int(self.owner[spec.client])
        reviewed = spec.status != choices.EstimateStatus.DRAFT
        review_day = min(self.T, spec.day + self.rnd.randint(1, 14))
        rejected = spec.status == choices.EstimateStatus.REJECTED
        row = WalletEstimate(
            client_id=int(self.client_pk[spec.client]),
            kind=spec.kind,
            year=spec.year,
            amount=Decimal(max(0, round(spec.amount, -3))).quantize(Decimal("0.01")),
            product_group_id=self.group_pk[spec.group] if spec.group is not None else None,
            basis=spec.basis,
            comment=spec.comment,
            status=spec.status,
            entered_by=self.users[owner_index],
            entered_at=self.at(spec.day, 14),
            reviewed_by=self.users[self.reviewer[owner_index]] if reviewed else None,
            reviewed_at=self.at(review_day, 17) if reviewed else None,
            review_comment=self.rnd.choice(REJECT_COMMENTS) if rejected else "",
        )
        row._history_date = row.entered_at  # type: ignore[attr-defined]
        return row
