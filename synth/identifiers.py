"""Generators of well-formed Chinese identifiers and personal data, with valid check
characters, for simulated data, the demo and the scan benchmark. Nothing here is real."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from faker.providers.address.zh_CN import Provider as _Address
from faker.providers.person.zh_CN import Provider as _Person

from anonymize.checksums import (
    USCC_ALPHABET,
    luhn_check_digit,
    resident_id_check_char,
    uscc_check_char,
)

PROVINCE_AREAS = {"440106": ("广东省", "广州市", "天河区"), "110105": ("北京市", "北京市", "朝阳区"),
                  "310115": ("上海市", "上海市", "浦东新区"), "330106": ("浙江省", "杭州市", "西湖区"),
                  "510107": ("四川省", "成都市", "武侯区"), "420106": ("湖北省", "武汉市", "武昌区")}
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_SURNAMES = [s for s in _Person.last_names if len(s) <= 2]
_GIVEN = list(_Person.first_names)
_STREETS = ["中山", "人民", "解放", "建设", "和平", "新华", "天河", "滨江", "文化", "青年"]


def resident_id(rng: random.Random, area: str | None = None, born: dt.date | None = None) -> str:
    area = area or rng.choice(list(PROVINCE_AREAS))
    born = born or dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 80))
    body = f"{area}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + resident_id_check_char(body)


def uscc(rng: random.Random, area: str | None = None) -> str:
    area = area or rng.choice(list(PROVINCE_AREAS))
    org_code = "".join(rng.choice(USCC_ALPHABET[:10] + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    body = "91" + area + org_code
    return body + uscc_check_char(body)


def bank_card(rng: random.Random) -> str:
    body = "62" + "".join(str(rng.randrange(10)) for _ in range(15))
    return body + luhn_check_digit(body)


def credit_card(rng: random.Random) -> str:
    """A 15-digit American Express number, grouped 4-6-5."""
    body = rng.choice(["34", "37"]) + "".join(str(rng.randrange(10)) for _ in range(12))
    digits = body + luhn_check_digit(body)
    return f"{digits[:4]} {digits[4:10]} {digits[10:]}"


def plate(rng: random.Random, new_energy: bool = False, province: str = "粤") -> str:
    letter = rng.choice("ABCDEFGHJ")
    if new_energy:
        return province + letter + rng.choice("DF") + rng.choice(PLATE_LETTERS + "0123456789") + \
            f"{rng.randrange(10000):04d}"
    tail = "".join(rng.choice(PLATE_LETTERS + "0123456789") for _ in range(5))
    return province + letter + tail


def mobile(rng: random.Random) -> str:
    number = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    style = rng.randrange(4)
    if style == 1:
        return f"+86 {number[:3]}-{number[3:7]}-{number[7:]}"
    if style == 2:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    return number


def landline(rng: random.Random) -> str:
    area, digits = rng.choice([("010", 8), ("020", 8), ("021", 8), ("0755", 8), ("0571", 7)])
    return f"{area}-{rng.randint(2, 9)}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"


def passport(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"E{rng.randrange(10**8):08d}"
    return f"E{rng.choice(PLATE_LETTERS)}{rng.randrange(10**7):07d}"


def person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def address(rng: random.Random) -> str:
    province, city, district = PROVINCE_AREAS[rng.choice(list(PROVINCE_AREAS))]
    head = province if province == city else province + city
    return f"{head}{district}{rng.choice(_STREETS)}{rng.choice(_Address.street_suffixes)}" \
           f"{rng.randint(1, 999)}号"


def email(rng: random.Random) -> str:
    local = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
    return f"{local}{rng.randrange(1000)}@{rng.choice(['163.com', 'qq.com', 'example.cn', 'gov.cn'])}"


def ip_address(rng: random.Random) -> str:
    return ".".join(str(rng.randint(1, 254)) for _ in range(4))


def url(rng: random.Random) -> str:
    return f"https://www.{rng.choice(['example', 'data', 'gov'])}.cn/item?id={rng.randrange(10**6)}"


def iban(rng: random.Random) -> str:
    """A German IBAN (DE, 18 digits) with valid ISO 7064 mod-97 check digits."""
    bban = "".join(str(rng.randrange(10)) for _ in range(18))
    check = 98 - int(bban + "131400") % 97  # D=13, E=14, then "00"
    return f"DE{check:02d}{bban}"


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "CN_RESIDENT_ID": resident_id, "CN_USCC": uscc, "CN_BANK_CARD": bank_card,
    "CN_MOBILE": mobile, "CN_LANDLINE": landline, "CN_LICENSE_PLATE": plate,
    "CN_PASSPORT": passport, "CREDIT_CARD": credit_card, "IBAN_CODE": iban,
    "IP_ADDRESS": ip_address, "EMAIL_ADDRESS": email, "URL": url, "CN_ADDRESS": address,
    "PERSON": person,
}


# Look-alikes that carry no identifier: they must never make a column's entity.
def order_number(rng: random.Random) -> str:
    """16 digits starting with 6, like a bank card, but with no Luhn check (9 in 10 fail)."""
    return "6" + "".join(str(rng.randrange(10)) for _ in range(15))


def corrupted_resident_id(rng: random.Random) -> str:
    valid = resident_id(rng)
    wrong = rng.choice([c for c in "0123456789X" if c != valid[-1]])
    return valid[:-1] + wrong


def ticket(rng: random.Random) -> str:
    """Codes near passports and plates: E plus nine digits, or a letter run with digits."""
    if rng.random() < 0.5:
        return f"E{rng.randrange(10**9):09d}"
    return f"TK-{rng.choice(PLATE_LETTERS)}{rng.randrange(10**6):06d}-{rng.randrange(100):02d}"


DECOYS: dict[str, Callable[[random.Random], str]] = {
    "order_number": order_number, "corrupted_resident_id": corrupted_resident_id,
    "ticket": ticket,
}
