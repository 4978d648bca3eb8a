"""ARTS POSLog reader and mapping: real sample, ARTS variants, and damaged files."""

from __future__ import annotations

import io
import re
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storewatch.ingest.formats.base import Record
from storewatch.ingest.formats.poslog import FORMAT, iter_transactions, looks_like
from storewatch.store.schema import EVENT_CLASSES

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "pos" / "poslog_0001.xml"
NS = "http://www.nrf-arts.org/IXRetail/namespace/"


def run_mapping(sql: str, records: list[Record]) -> list[dict]:
    """Run a format's SQL over records the way the engine does (batch relation, sw_time macro)."""
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute("CREATE MACRO sw_time(s) AS try_cast(s AS TIMESTAMPTZ)")
    batch = pa.table({"line_no": pa.array([r.line_no for r in records], pa.int64()),
                      "line_offset": pa.array([r.offset for r in records], pa.int64()),
                      "line": pa.array([r.text for r in records], pa.string())})
    con.register("batch", batch)
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def records(data: bytes) -> list[Record]:
    return list(iter_transactions(io.BytesIO(data)))


def tx(body: str, seq: int = 1, ws: str = "7", extra: str = "", prefix: str = "") -> str:
    p = prefix
    return (f"<{p}Transaction>\n<{p}RetailStoreID>S42</{p}RetailStoreID><{p}WorkstationID>{ws}</{p}WorkstationID>"
            f"<{p}SequenceNumber>{seq}</{p}SequenceNumber><{p}BusinessDayDate>2026-11-16</{p}BusinessDayDate>\n"
            f"<{p}BeginDateTime>2026-11-16T10:00:00+01:00</{p}BeginDateTime>{extra}\n"
            f"<{p}CurrencyCode>eur</{p}CurrencyCode>\n{body}\n</{p}Transaction>\n")


CARD = ('<Tender TenderType="CreditDebit" TypeCode="{code}"><Amount>{amt}</Amount>'
        '<CreditDebit CardType="Mastercard"><PrimaryAccountNumber>************{last4}</PrimaryAccountNumber>'
        "</CreditDebit></Tender>")


def test_sample_records_and_mapping() -> None:
    recs = records(SAMPLE.read_bytes())
    assert [r.line_no for r in recs] == [3, 32, 61, 91]
    assert all(r.error is None for r in recs)
    raw = SAMPLE.read_bytes()
    for r in recs:  # offsets point at the start of the record's line
        assert raw[r.offset:].lstrip().startswith(b"<Transaction>")
        assert raw[: r.offset].count(b"\n") == r.line_no - 1
    first = orjson.loads(recs[0].text)
    assert first["tenders"] == [{"type": "CreditDebit", "type_code": "Sale", "amount": 66.53, "card_type": None,
                                 "card_brand": "Visa", "last4": "2650", "change": None}]  # CardType="Visa" is a brand

    rows = run_mapping(FORMAT.sql, recs)
    assert [r["activity"] for r in rows] == ["sale", "sale", "return", "return"]
    sale, _, receipted, no_receipt = rows
    assert sale["_error"] is None and sale["class_name"] in EVENT_CLASSES
    assert sale["time"].isoformat() == "2026-11-16T08:15:24+00:00"
    assert (sale["store_id"], sale["device"], sale["employee_id"]) == ("0001", "0001-2", "E106")
    assert (sale["transaction_id"], sale["amount"], sale["currency"]) == ("0001-2-5854", Decimal("66.53"), "USD")
    assert (sale["card_last4"], sale["card_brand"], sale["outcome"]) == ("2650", "Visa", "success")
    attrs = json.loads(no_receipt["attributes"])
    assert attrs["return_no_receipt_count"] == 1 and attrs["return_count"] == 1
    assert attrs["refund_amount"] == 173.9 and attrs["tender_types"] == "CreditDebit"
    assert json.loads(receipted["attributes"])["return_no_receipt_count"] == 0
    assert looks_like(SAMPLE.read_text())


VARIANTS = (
    '<?xml version="1.0"?>\n<POSLog>\n'
    # 1: line voids three ways, cash + card tenders, OperatorName attribute
    + tx('<RetailTransaction TransactionStatus="Finished">'
         '<LineItem><Sale><ItemID>A</ItemID></Sale></LineItem>'
         '<LineItem VoidFlag="true"><Sale><ItemID>B</ItemID></Sale></LineItem>'
         "<LineItem><Sale><ItemID>C</ItemID></Sale><Void/></LineItem>"
         '<LineItem><Sale VoidFlag="true"><ItemID>D</ItemID></Sale></LineItem>'
         '<LineItem><Tender TenderType="Cash" TypeCode="Sale"><Amount>5.00</Amount></Tender></LineItem>'
         "<LineItem>" + CARD.format(code="Sale", amt="5.50", last4="4321") + "</LineItem>"
         '<Total TotalType="TransactionNetAmount">9.00</Total><Total TotalType="TransactionGrandAmount">10.50</Total>'
         "</RetailTransaction>", seq=1, extra='<OperatorID OperatorName="Pat Doe">E7</OperatorID>')
    # 2: no-receipt return without a Disposal element (no receipt link either) plus a sale: an exchange
    + tx('<RetailTransaction TransactionStatus="Finished">'
         "<LineItem><Return><ItemID>R1</ItemID></Return></LineItem>"
         "<LineItem><Return><ItemID>R2</ItemID><TransactionLink><SequenceNumber>3</SequenceNumber></TransactionLink></Return></LineItem>"
         "<LineItem><Sale><ItemID>S1</ItemID></Sale></LineItem>"
         "<LineItem>" + CARD.format(code="Refund", amt="-20.00", last4="9999") + "</LineItem>"
         '<Total TotalType="TransactionGrandAmount">-20.00</Total></RetailTransaction>', seq=2)
    # 3: no sale (drawer opened)
    + tx("<ControlTransaction><NoSale/></ControlTransaction>", seq=3, extra="<OperatorID>E8</OperatorID>")
    # 4: post void of transaction 1, referenced through a TransactionLink
    + tx("<ControlTransaction><PostVoid><TransactionLink><RetailStoreID>S42</RetailStoreID>"
         "<SequenceNumber>1</SequenceNumber></TransactionLink></PostVoid></ControlTransaction>", seq=4)
    # 5: the voided original flagged on the RetailTransaction itself
    + tx('<RetailTransaction TransactionStatus="PostVoided"><LineItem><Sale/></LineItem></RetailTransaction>', seq=5)
    # 6: cancelled sale
    + tx('<RetailTransaction TransactionStatus="Cancelled"><LineItem><Sale/></LineItem></RetailTransaction>', seq=6)
    # 7: sign on, and no workstation
    + tx("<ControlTransaction><OperatorSignOn/></ControlTransaction>", seq=7, ws="")
    + "</POSLog>\n"
)


def test_variants_no_namespace() -> None:
    recs = records(VARIANTS.encode())
    assert all(r.error is None for r in recs)
    flat = [orjson.loads(r.text) for r in recs]
    assert [f["kind"] for f in flat] == ["sale", "exchange", "no_sale", "post_void", "post_void", "sale", "sign_on"]
    voids = flat[0]
    assert (voids["line_void_count"], voids["item_count"], voids["total"]) == (3, 1, 10.5)
    assert (voids["operator_id"], voids["operator_name"]) == ("E7", "Pat Doe")
    assert [t["type"] for t in voids["tenders"]] == ["Cash", "CreditDebit"]
    assert voids["card_last4"] == "4321" and voids["card_brand"] == "Mastercard"
    exchange = flat[1]
    assert (exchange["return_count"], exchange["return_no_receipt_count"], exchange["refund_amount"]) == (2, 1, -20.0)
    assert flat[3]["voided_sequence"] == "1" and flat[3]["control"] == "PostVoid"

    rows = run_mapping(FORMAT.sql, recs)
    assert all(r["_error"] is None for r in rows)
    assert rows[0]["time"].isoformat() == "2026-11-16T09:00:00+00:00"  # begin, offset to UTC
    assert rows[0]["currency"] == "EUR" and rows[0]["amount"] == Decimal("10.50")
    assert json.loads(rows[0]["attributes"])["tender_types"] == "Cash,CreditDebit"
    assert json.loads(rows[3]["attributes"])["voided_sequence"] == "1"
    assert [r["outcome"] for r in rows][4:6] == ["success", "failure"]
    assert rows[2]["employee_id"] == "E8" and rows[2]["activity"] == "no_sale"
    assert rows[6]["device"] is None and rows[6]["transaction_id"] is None  # no workstation: no till identity


def test_prefixed_namespace_and_bare_transactions() -> None:
    doc = (f'<a:POSLog xmlns:a="{NS}">' + tx('<a:RetailTransaction TransactionStatus="Finished">'
           '<a:LineItem><a:Return><a:Disposal Method="NoReceipt"/></a:Return></a:LineItem></a:RetailTransaction>',
           prefix="a:") + "</a:POSLog>")
    [rec] = records(doc.encode())
    flat = orjson.loads(rec.text)
    assert (flat["kind"], flat["return_no_receipt_count"], flat["store_id"]) == ("return", 1, "S42")
    bare = tx("<RetailTransaction><LineItem><Sale/></LineItem></RetailTransaction>")
    assert looks_like(bare) and looks_like(doc) and looks_like(f'<POSLog xmlns="{NS}"/>')
    assert not looks_like("<Events><Event><System/></Event></Events>")
    assert not looks_like("<Transaction><ID/></Transaction>")


def test_truncated_file_yields_good_records_then_the_raw_rest() -> None:
    data = SAMPLE.read_bytes()
    cut = data.index(b"<Amount>170.81")
    recs = records(data[:cut])
    assert [r.error is None for r in recs] == [True, True, False]
    bad = recs[-1]
    assert bad.line_no == 61 and "XML syntax error" in bad.error
    assert bad.text.lstrip().startswith("<Transaction>") and bad.text.endswith(data[:cut].decode()[-20:])


def test_garbage_in_the_middle() -> None:
    data = SAMPLE.read_bytes()
    at = data.index(b"  <Transaction>", 200)
    damaged = data[:at] + b"\x01 <<not xml & stuff>>\n" + data[at:]
    recs = records(damaged)
    assert [r.error is None for r in recs] == [True, False]
    assert recs[1].line_no == 32 and "(line 32)" in recs[1].error
    assert recs[1].text.startswith("\x01 <<not xml") and "5923" in recs[1].text


def test_huge_text_node_and_capped_snippet() -> None:
    big = "x" * (2 << 20)
    doc = f"<POSLog>{tx(f'<RetailTransaction><LineItem><Sale><Description>{big}</Description></Sale></LineItem></RetailTransaction>')}</POSLog>"
    [rec] = records(doc.encode())
    assert rec.error is None and orjson.loads(rec.text)["item_count"] == 1
    truncated = records(doc.encode()[: len(doc) - 300])
    assert truncated[-1].error and 900_000 < len(truncated[-1].text) <= 1 << 20


def test_many_transactions_stream_with_exact_offsets() -> None:
    body = "<RetailTransaction><LineItem><Sale/></LineItem></RetailTransaction>"
    data = ("<POSLog>\n" + "".join(tx(body, seq=i) for i in range(3000)) + "</POSLog>").encode()
    recs = records(data)
    assert len(recs) == 3000 and orjson.loads(recs[-1].text)["sequence"] == "2999"
    for r in recs[::250]:
        assert data[r.offset:].startswith(b"<Transaction>") and data[: r.offset].count(b"\n") == r.line_no - 1


def test_empty_and_non_xml() -> None:
    assert records(b"") == [] and records(b"   \n") == []
    [bad] = records(b"hello, not xml")
    assert bad.error and bad.text == "hello, not xml"


@settings(max_examples=150, deadline=None)
@given(cut=st.integers(0, SAMPLE.stat().st_size), junk=st.binary(max_size=20))
def test_damage_never_raises_and_good_records_are_a_prefix(cut: int, junk: bytes) -> None:
    data = SAMPLE.read_bytes()
    full = [r.text for r in records(data)]
    recs = records(data[:cut] + junk)
    good = [r.text for r in recs if r.error is None]
    assert good == full[: len(good)]
    assert sum(1 for r in recs if r.error) <= 1 and all(r.error for r in recs[len(good):])


def test_untyped_total_and_business_unit_store() -> None:
    doc = ("<Transaction><BusinessUnit><UnitID>S9</UnitID></BusinessUnit><WorkstationID>1</WorkstationID>"
           "<SequenceNumber>5</SequenceNumber><EndDateTime>2026-11-16T10:00:00Z</EndDateTime>"
           "<RetailTransaction><LineItem><Sale/></LineItem><Total>12.34</Total></RetailTransaction></Transaction>")
    [row] = run_mapping(FORMAT.sql, records(doc.encode()))
    assert (row["store_id"], row["transaction_id"], row["amount"]) == ("S9", "S9-1-5", Decimal("12.34"))


def test_broken_compressed_source_ends_with_a_read_error() -> None:
    import gzip

    body = "".join(tx("<RetailTransaction><LineItem><Sale/></LineItem></RetailTransaction>", seq=i) for i in range(4000))
    packed = gzip.compress(f"<POSLog>{body}</POSLog>".encode())
    recs = list(iter_transactions(gzip.GzipFile(fileobj=io.BytesIO(packed[: len(packed) // 2]))))
    assert len(recs) > 100 and all(r.error is None for r in recs[:-1])
    assert recs[-1].error.startswith("read error (EOFError)")
    assert records(b"") == [] and list(iter_transactions(gzip.GzipFile(fileobj=io.BytesIO(packed[:20]))))[0].error


# --- card kind vs brand, till control, change: ARTS and vendor spellings ------------------------------

BRANDS = (
    '<POSLog xmlns="http://www.nrf-arts.org/IXRetail/namespace/" xmlns:acs="http://www.ncr.com/rsd/acs/tlog/markup/poslog/2.1">'
    # ARTS: CardType is the kind, the brand a child
    + tx('<RetailTransaction><LineItem><Sale/></LineItem><LineItem><Tender TenderType="CreditDebit" TypeCode="Sale">'
         '<Amount>3.00</Amount><CreditDebit CardType="Credit"><CardBrand>Visa</CardBrand>'
         '<PrimaryAccountNumber>XXXXXXXXXXXX1881</PrimaryAccountNumber></CreditDebit></Tender></LineItem></RetailTransaction>', seq=1)
    # NCR ACS extension attribute
    + tx('<RetailTransaction><LineItem><Sale/></LineItem><LineItem><Tender TenderType="CreditDebit" TypeCode="Sale">'
         '<Amount>4.00</Amount><CreditDebit CardType="Debit" acs:CreditDescription="Maestro"/></Tender></LineItem></RetailTransaction>', seq=2)
    # vendor-prefixed tender type, kind only: no brand is invented
    + tx('<RetailTransaction><LineItem><Sale/></LineItem><LineItem><Tender TenderType="DKT:CreditCard" TypeCode="Sale">'
         '<Amount>5.00</Amount><CreditDebit CardType="Debit"/></Tender></LineItem>'
         '<LineItem><Tender TenderType="Cash" TypeCode="Sale"><Amount>10.00</Amount><TenderChange><Amount>4.50</Amount></TenderChange>'
         '</Tender></LineItem></RetailTransaction>', seq=3)
    # till loan and pickup
    + tx('<TenderControlTransaction><TillLoan><Amount>100.00</Amount></TillLoan></TenderControlTransaction>', seq=4)
    + tx('<ControlTransaction><ReasonCode>Manager</ReasonCode><OperatorSignOff/></ControlTransaction>', seq=5)
    + "</POSLog>"
)


def test_card_kind_and_brand_are_kept_apart() -> None:
    recs = records(BRANDS.encode())
    flat = [orjson.loads(r.text) for r in recs]
    assert [(f["card_brand"], f["card_type"], f["card_last4"]) for f in flat[:3]] == [
        ("Visa", "Credit", "1881"), ("Maestro", "Debit", None), (None, "Debit", None)]
    assert flat[2]["change_amount"] == 4.5
    assert [f["kind"] for f in flat[3:]] == ["till_control", "sign_off"]
    assert flat[3]["tender_control"] == "TillLoan" and flat[4]["control"] == "OperatorSignOff"  # not the ReasonCode
    rows = run_mapping(FORMAT.sql, recs)
    assert [r["card_brand"] for r in rows[:3]] == ["Visa", "Maestro", None]
    assert [json.loads(r["attributes"])["card_type"] for r in rows[:3]] == ["Credit", "Debit", "Debit"]


# --- real NCR ACS POSLog exports (tests/data/real/stores, see SOURCES.md) ------------------------------

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "stores"


def _raw_transactions(path: Path) -> list[str]:
    return re.findall(r"<Transaction>.*?</Transaction>", path.read_text(), re.S)


def test_real_ncr_acs_excerpt(run, query) -> None:
    path = REAL / "poslog_ncr_acs_excerpt.xml"
    raw = _raw_transactions(path)
    report = run(path)
    assert report.files[0].source_format == "poslog"
    assert (report.totals["stored"], report.totals["quarantined"]) == (len(raw), 0) and len(raw) == 19
    rows = query("SELECT time, activity, device, employee_id, amount, currency, card_brand, transaction_id, attributes "
                 "FROM events ORDER BY source_line, time")
    assert [r["activity"] for r in rows].count("no_sale") == sum("<NoSale" in t for t in raw) == 2
    assert [r["activity"] for r in rows].count("sign_on") == sum("<OperatorSignOn>" in t for t in raw)
    assert [r["activity"] for r in rows].count("sign_off") == sum("<OperatorSignOff>" in t for t in raw)
    by_id = {r["transaction_id"]: r for r in rows}
    # <RetailStoreID>9</RetailStoreID><WorkstationID>31</WorkstationID><SequenceNumber>115</SequenceNumber>
    # ... <EndDateTime>2017-10-01T15:18:34</EndDateTime><OperatorID OperatorName="FL 31">91</OperatorID>
    mc = by_id["9-31-115"]
    assert (mc["time"].isoformat(), mc["device"], mc["employee_id"], mc["currency"]) == ("2017-10-01T15:18:34+00:00", "9-31", "91", "USD")
    assert (mc["card_brand"], json.loads(mc["attributes"])["card_type"]) == ("MasterCard", "Credit")  # acs:CreditDescription
    tx115 = next(t for t in raw if "<WorkstationID>31</WorkstationID><SequenceNumber>115<" in t)
    assert json.loads(mc["attributes"])["line_void_count"] == tx115.count('VoidFlag="true"') == 1
    debit = rows[0]  # CreditDebit CardType="Debit" without a brand: no brand invented
    assert (debit["card_brand"], json.loads(debit["attributes"])["card_type"], debit["amount"]) == (None, "Debit", Decimal("20.45"))
    assert {r["card_brand"] for r in rows} - {None} == {"Visa", "MasterCard", "AmericanExpress", "DiscoverCard"}
    assert not {r["card_brand"] for r in rows} & {"Credit", "Debit"}
    change = by_id["9-34-100"]
    assert json.loads(change["attributes"])["change_amount"] == -2.62  # <TenderChange><Amount>-2.62</Amount>


def test_real_ncr_acs_item_ids_are_not_taken_for_cards(run) -> None:
    report = run(REAL / "poslog_ncr_acs_small.xml")
    assert report.totals["stored"] == 2 and report.totals["pans_scrubbed"] == 0


def test_real_ncr_acs_small(run, query) -> None:
    report = run(REAL / "poslog_ncr_acs_small.xml")
    assert (report.totals["stored"], report.totals["quarantined"]) == (2, 0)
    sign_on, sale = query("SELECT time, activity, employee_id, amount, card_brand, transaction_id, attributes FROM events ORDER BY time")
    assert (sign_on["activity"], sign_on["transaction_id"], sign_on["employee_id"]) == ("sign_on", "9-34-160", "94")
    assert json.loads(sign_on["attributes"])["operator_name"] == "FL 34"
    assert (sale["activity"], sale["amount"], sale["card_brand"]) == ("sale", Decimal("1.07"), None)
    attrs = json.loads(sale["attributes"])
    assert (attrs["card_type"], attrs["tender_types"], attrs["item_count"]) == ("Debit", "CreditDebit", 1)


ARTS6_BARE = """<?xml version="1.0" encoding="UTF-8"?>
<poslog:Transaction xmlns:poslog="http://www.nrf-arts.org/IXRetail/namespace/">
  <poslog:BusinessUnit><poslog:UnitID TypeCode="RetailStore">0420</poslog:UnitID></poslog:BusinessUnit>
  <poslog:WorkstationID>3</poslog:WorkstationID><poslog:SequenceNumber>77</poslog:SequenceNumber>
  <poslog:EndDateTime>2026-11-16T21:05:00Z</poslog:EndDateTime><poslog:OperatorID>E55</poslog:OperatorID>
  <poslog:RetailTransaction TransactionStatus="Finished">
    <poslog:LineItem><poslog:Return><poslog:POSIdentity POSIDType="GTIN"><poslog:POSItemID>04012345678901</poslog:POSItemID>
      </poslog:POSIdentity><poslog:Disposal Method="NoReceipt"/></poslog:Return></poslog:LineItem>
    <poslog:LineItem><poslog:Tender TenderType="CreditDebit" TypeCode="Refund"><poslog:Amount Currency="EUR">-49.90</poslog:Amount>
      <poslog:CreditDebit CardType="Debit"><poslog:CardBrand>Girocard</poslog:CardBrand></poslog:CreditDebit></poslog:Tender></poslog:LineItem>
    <poslog:Total TotalType="TransactionGrandAmount">-49.90</poslog:Total>
  </poslog:RetailTransaction>
</poslog:Transaction>
"""


def test_bare_arts6_transaction_with_prefix(run, query, tmp_path: Path) -> None:
    (tmp_path / "tx.xml").write_text(ARTS6_BARE)
    report = run(tmp_path / "tx.xml")
    assert report.files[0].source_format == "poslog" and report.totals["stored"] == 1
    [row] = query("SELECT activity, store_id, device, employee_id, amount, card_brand, attributes FROM events")
    assert (row["activity"], row["store_id"], row["device"], row["employee_id"]) == ("return", "0420", "0420-3", "E55")
    assert (row["amount"], row["card_brand"]) == (Decimal("-49.90"), "Girocard")
    attrs = json.loads(row["attributes"])
    assert (attrs["card_type"], attrs["return_no_receipt_count"], attrs["refund_amount"]) == ("Debit", 1, -49.9)


def test_training_mode_and_cancel_flag() -> None:
    """Xstore/ARTS 6 flag the whole Transaction: a training return is no refund, a CancelFlag a cancelled sale."""
    data = ("<POSLog>"
            + tx("<RetailTransaction><LineItem><Return><ItemID>R</ItemID></Return></LineItem></RetailTransaction>", seq=1)
              .replace("<Transaction>", '<Transaction TrainingModeFlag="true" CancelFlag="false">')
            + tx("<RetailTransaction><LineItem><Sale/></LineItem></RetailTransaction>", seq=2)
              .replace("<Transaction>", '<Transaction CancelFlag="true">')
            + "</POSLog>")
    rows = run_mapping(FORMAT.sql, records(data.encode()))
    assert [(r["activity"], r["event_code"], r["outcome"]) for r in rows] == [
        ("training", "return", "success"), ("sale", "sale", "failure")]
    assert json.loads(rows[0]["attributes"])["training"] is True
    assert json.loads(rows[1]["attributes"])["status"] == "Cancelled"
