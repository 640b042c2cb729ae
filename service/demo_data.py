"""Realistic generated public data of a Chinese city, for the demo and the tests."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from faker import Faker

from synth import identifiers
from synth.identifiers import bank_card, plate, resident_id, uscc

__all__ = ["bank_card", "enterprises", "hospital_visits", "plate", "resident_id", "traffic", "uscc",
           "write"]

DISTRICTS = ["越秀区", "海珠区", "荔湾区", "天河区", "白云区", "黄埔区", "番禺区", "花都区",
             "南沙区", "从化区", "增城区"]
AREA_CODES = {"越秀区": "440104", "海珠区": "440105", "荔湾区": "440103", "天河区": "440106",
              "白云区": "440111", "黄埔区": "440112", "番禺区": "440113", "花都区": "440114",
              "南沙区": "440115", "从化区": "440117", "增城区": "440118"}
HOSPITALS = ["广州市第一人民医院", "中山大学附属第一医院", "广东省人民医院", "南方医院",
             "广州医科大学附属第二医院", "广州市妇女儿童医疗中心"]
DEPARTMENTS = ["内科", "外科", "儿科", "妇产科", "眼科", "口腔科", "急诊科", "皮肤科"]
DIAGNOSES = ["高血压", "2型糖尿病", "上呼吸道感染", "慢性胃炎", "腰椎间盘突出", "支气管炎",
             "冠心病", "龋齿", "过敏性皮炎", "骨折"]
INDUSTRIES = ["制造业", "批发和零售业", "信息传输、软件和信息技术服务业", "交通运输业", "建筑业",
              "金融业", "住宿和餐饮业", "科学研究和技术服务业"]
VIOLATIONS = ["无", "超速", "闯红灯", "违停", "不按导向车道行驶", "未礼让行人"]
ROADS = ["中山大道", "黄埔大道", "广州大道", "环市东路", "东风路", "天河路", "解放北路",
         "机场路", "新港中路", "工业大道"]


# Each demo table's providing department, update frequency and Chinese field names (字段中文名).
DESCRIBED = {
    "hospital_visits": ("广州市卫生健康委员会", "daily", {
        "visit_id": "就诊流水号", "patient_name": "患者姓名", "resident_id": "公民身份号码",
        "mobile": "联系电话", "address": "居住地址", "gender": "性别", "age": "年龄",
        "district": "行政区", "hospital": "就诊医院", "department": "就诊科室",
        "diagnosis": "诊断名称", "visit_date": "就诊日期", "fee": "费用（元）"}),
    "enterprise_registry": ("广州市市场监督管理局", "monthly", {
        "uscc": "统一社会信用代码", "company_name": "企业名称", "legal_representative": "法定代表人",
        "industry": "所属行业", "district": "注册地行政区", "registered_capital_wan": "注册资本（万元）",
        "founded": "成立日期", "employees": "从业人数"}),
    "traffic_records": ("广州市公安局交通警察支队", "realtime", {
        "record_id": "过车记录编号", "plate": "号牌号码", "district": "行政区", "road": "道路名称",
        "passed_at": "过车时间", "speed_kmh": "车速（公里/小时）", "violation": "违法行为"}),
}


def hospital_visits(rows: int, seed: int) -> pa.Table:
    rng, fake = random.Random(seed), Faker("zh_CN")
    fake.seed_instance(seed)
    start = dt.date(2025, 1, 1)
    data: dict[str, list] = {k: [] for k in (
        "visit_id", "patient_name", "resident_id", "mobile", "address", "gender", "age",
        "district", "hospital", "department", "diagnosis", "visit_date", "fee")}
    for i in range(rows):
        district = rng.choice(DISTRICTS)
        age = min(95, max(0, int(rng.gauss(45, 20))))
        visit = start + dt.timedelta(days=rng.randrange(365))
        born = dt.date(visit.year - age, rng.randint(1, 12), rng.randint(1, 28))
        data["visit_id"].append(f"V{2025_000000 + i}")
        data["patient_name"].append(fake.name())
        data["resident_id"].append(resident_id(rng, AREA_CODES[district], born))
        data["mobile"].append(fake.phone_number())
        data["address"].append(f"广东省广州市{district}{fake.street_name()}{rng.randint(1, 300)}号")
        data["gender"].append(rng.choice(["男", "女"]))
        data["age"].append(age)
        data["district"].append(district)
        data["hospital"].append(rng.choice(HOSPITALS))
        data["department"].append(rng.choice(DEPARTMENTS))
        data["diagnosis"].append(rng.choice(DIAGNOSES))
        data["visit_date"].append(visit)
        data["fee"].append(round(rng.lognormvariate(5.5, 0.8), 2))
    return pa.table(data)


def enterprises(rows: int, seed: int) -> pa.Table:
    rng, fake = random.Random(seed), Faker("zh_CN")
    fake.seed_instance(seed)
    data: dict[str, list] = {k: [] for k in (
        "uscc", "company_name", "legal_representative", "industry", "district",
        "registered_capital_wan", "founded", "employees")}
    for _ in range(rows):
        district = rng.choice(DISTRICTS)
        data["uscc"].append(uscc(rng, AREA_CODES[district]))
        data["company_name"].append(fake.company())
        data["legal_representative"].append(fake.name())
        data["industry"].append(rng.choice(INDUSTRIES))
        data["district"].append(district)
        data["registered_capital_wan"].append(rng.choice([10, 50, 100, 200, 500, 1000, 5000]))
        data["founded"].append(dt.date(rng.randint(1990, 2024), rng.randint(1, 12), rng.randint(1, 28)))
        data["employees"].append(int(rng.lognormvariate(3, 1.2)) + 1)
    return pa.table(data)


def traffic(rows: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    start = dt.datetime(2025, 6, 1)
    data: dict[str, list] = {k: [] for k in (
        "record_id", "plate", "district", "road", "passed_at", "speed_kmh", "violation")}
    for i in range(rows):
        data["record_id"].append(f"T{i:08d}")
        data["plate"].append(plate(rng, new_energy=rng.random() < 0.3))
        data["district"].append(rng.choice(DISTRICTS))
        data["road"].append(rng.choice(ROADS))
        data["passed_at"].append(start + dt.timedelta(seconds=rng.randrange(30 * 86400)))
        data["speed_kmh"].append(round(max(5.0, rng.gauss(48, 14)), 1))
        data["violation"].append(rng.choices(VIOLATIONS, weights=[85, 5, 3, 4, 2, 1])[0])
    return pa.table(data)


def write(table: pa.Table, path: Path, encoding: str = "utf-8") -> Path:
    """Write a table as Parquet or CSV (by suffix); CSV in ``encoding`` (e.g. gb18030)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    elif encoding == "utf-8":
        pacsv.write_csv(table, path)
    else:
        tmp = path.with_suffix(".utf8.csv")
        pacsv.write_csv(table, tmp)
        path.write_bytes(tmp.read_text(encoding="utf-8").encode(encoding))
        tmp.unlink()
    return path


def _note(rng: random.Random) -> str:
    """Free text; most notes name a patient's mobile number, some mention nothing personal."""
    if rng.random() < 0.35:
        return f"{rng.choice(DEPARTMENTS)}门诊复查，{rng.choice(DIAGNOSES)}，病情稳定，" \
               f"{rng.randint(1, 30)}天后随访。"
    return f"患者于{rng.randint(1, 12)}月{rng.randint(1, 28)}日就诊，诊断为{rng.choice(DIAGNOSES)}，" \
           f"联系电话{identifiers.mobile(rng)}，请按时复诊。"


# Columns of the scan benchmark table and the entity a scan must give each (None: none).
SCAN_COLUMNS: dict[str, str | None] = {
    "resident_id": "CN_RESIDENT_ID", "name": "PERSON", "mobile": "CN_MOBILE",
    "landline": "CN_LANDLINE", "address": "CN_ADDRESS", "email": "EMAIL_ADDRESS",
    "bank_card": "CN_BANK_CARD", "uscc": "CN_USCC", "plate": "CN_LICENSE_PLATE",
    "login_ip": "IP_ADDRESS", "note": "CN_MOBILE", "age": None, "amount": None,
    "order_no": None, "serial_no": None, "ticket": None,
}


def scan_table(rows: int, seed: int) -> pa.Table:
    """16 mixed columns: identifiers, names, addresses, free text, numbers and look-alike decoys
    (16-digit order numbers shaped like bank cards, resident IDs with a wrong check
    character, passport-like and plate-like codes)."""
    rng = random.Random(seed)
    plain = {
        "resident_id": identifiers.resident_id, "name": identifiers.person,
        "mobile": identifiers.mobile, "landline": identifiers.landline,
        "address": identifiers.address, "email": identifiers.email,
        "bank_card": identifiers.bank_card, "uscc": identifiers.uscc,
        "plate": lambda r: identifiers.plate(r, new_energy=r.random() < 0.3),
        "login_ip": identifiers.ip_address, "note": _note,
    }
    data: dict[str, pa.Array] = {}
    for name in SCAN_COLUMNS:
        if name in plain:
            make = plain[name]
            data[name] = pa.array([make(rng) for _ in range(rows)], pa.string())
        elif name == "age":
            data[name] = pa.array([rng.randint(0, 99) for _ in range(rows)], pa.int32())
        elif name == "amount":
            data[name] = pa.array([round(rng.lognormvariate(5, 1), 2) for _ in range(rows)])
        else:
            make = {"order_no": identifiers.order_number,
                    "serial_no": identifiers.corrupted_resident_id,
                    "ticket": identifiers.ticket}[name]
            data[name] = pa.array([make(rng) for _ in range(rows)], pa.string())
    return pa.table(data)


def pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` (ASCII), with a correct cross-reference table: the
    demo's application letter and commitment."""
    text = "BT /F1 12 Tf 72 760 Td 16 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
        for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("ascii")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode("ascii")
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n"
            "%%EOF\n").encode("ascii")
    return bytes(out)
