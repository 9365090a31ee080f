"""Who is in the Kazakhstan replay, and where: four people in Almaty, January 2022."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as wall_time

from db.models import Role
from schedules import zones

ZONE = "Asia/Almaty"
CITY = "Almaty"


@dataclass(frozen=True)
class Person:
    name: str
    username: str
    role: Role
    telegram_id: int

    @property
    def first(self) -> str:
        return self.name.split()[0]

    @property
    def label(self) -> str:
        return "security lead" if self.role is Role.LEAD else "staff"


AIGERIM = Person("Aigerim Bekova", "aigerim_b", Role.STAFF, 5_100_000_001)
DANIYAR = Person("Daniyar Seitkali", "daniyar_s", Role.STAFF, 5_100_000_002)
TOM = Person("Tom Whitfield", "tom_whitfield", Role.STAFF, 5_100_000_003)
SARAH = Person("Sarah Lindqvist", "sarah_security", Role.LEAD, 5_100_000_004)
PEOPLE = (AIGERIM, DANIYAR, TOM, SARAH)


def almaty(day: int, hour: int, minute: int = 0) -> datetime:
    """An Almaty wall time in January 2022 as a UTC instant, from the tz database."""
    return zones.local_to_utc(ZONE, date(2022, 1, day), wall_time(hour, minute)).utc
