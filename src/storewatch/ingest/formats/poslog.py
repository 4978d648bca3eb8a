"""ARTS POSLog XML (NRF ARTS IXRetail): one record per till `<Transaction>`.

Till exports differ in namespace prefixes (or none), ARTS schema version and which optional parts they
fill in, so elements are matched on local names and each fact is looked for where the variants put it.
The record is a flat JSON summary of the transaction (who, where, what kind, how paid, what was
voided or returned without receipt), which is what loss-prevention detections key on; line items
themselves are counted, not kept.

Record keys: store_id, workstation_id, sequence, transaction_ref, business_day, begin, end, operator_id,
operator_name, currency, status, kind (sale | return | exchange | no_sale | post_void | control |
other), total, item_count (merchandise lines, not voided), return_count, return_no_receipt_count,
line_void_count, tenders [{type, type_code, amount, card_type, last4}], card_last4, card_brand
(of the first card tender), refund_amount (sum of Refund tenders), voided_sequence.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import BinaryIO, Iterator

from lxml import etree

from storewatch.ingest.formats.base import Format, Record, load_sql
from storewatch.ingest.xmlstream import attr, iter_xml_records, local_name

_TRUE = {"true", "1", "yes", "y"}
_VOIDED_STATUS = {"postvoided", "postvoid", "voided"}
_CARD_TENDERS = {"creditdebit", "credit", "debit", "card", "creditcard", "debitcard"}
_HEAD = re.compile(r"<(?:[\w.-]+:)?POSLog[\s>/]|<(?:[\w.-]+:)?Transaction[\s>].{0,4000}?<(?:[\w.-]+:)?RetailStoreID[\s>]", re.S)


def looks_like(head: str) -> bool:
    """A POSLog root, or an ARTS Transaction carrying a RetailStoreID, in the file's first ~64 KB."""
    return bool(_HEAD.search(head[:65536]))


def iter_transactions(stream: BinaryIO) -> Iterator[Record]:
    """One Record per outermost Transaction, streamed; damage ends the file with one error Record."""
    return iter_xml_records(stream, ("Transaction",), transaction_record)


_LOCAL: dict[str, str] = {}  # "{namespace}Name" -> "Name"; tags repeat, so each is split once


class _Tree:
    """Children of each element by local name, built once per element: a transaction is read by many
    lookups (`child`, `text`, `children`), and a dictionary lookup is far cheaper than lxml's
    namespace-wildcard matching for each of them."""

    __slots__ = ("_kids",)

    def __init__(self) -> None:
        self._kids: dict[etree._Element, dict[str, list[etree._Element]]] = {}

    def kids(self, el: etree._Element) -> dict[str, list[etree._Element]]:
        found = self._kids.get(el)
        if found is None:
            found = {}
            for kid in el:
                tag = kid.tag
                if tag.__class__ is str:
                    name = _LOCAL.get(tag)
                    if name is None:
                        if len(_LOCAL) > 10_000:  # odd input with endless distinct tags
                            _LOCAL.clear()
                        name = _LOCAL[tag] = tag.rpartition("}")[2]
                    same = found.get(name)
                    if same is None:
                        found[name] = [kid]
                    else:
                        same.append(kid)
            self._kids[el] = found
        return found

    def children(self, el: etree._Element | None, name: str) -> list[etree._Element]:
        return self.kids(el).get(name, []) if el is not None else []

    def child(self, el: etree._Element | None, *path: str) -> etree._Element | None:
        for name in path:
            if el is None:
                return None
            found = self.kids(el).get(name)
            el = found[0] if found else None
        return el

    def text(self, el: etree._Element | None, *path: str) -> str | None:
        found = self.child(el, *path) if path else el
        if found is None:
            return None
        value = found.text
        return (value.strip() or None) if value else None

    def flag(self, el: etree._Element | None, name: str) -> bool:
        """A boolean given as attribute or as child element (ARTS uses both)."""
        value = attr(el, name) or self.text(el, name)
        return (value or "").lower() in _TRUE


def _first(*elements: etree._Element | None) -> etree._Element | None:
    """First element that exists (lxml elements without children are falsy, so `or` would skip them)."""
    return next((el for el in elements if el is not None), None)


def _amount(value: str | None) -> Decimal | None:
    try:
        return Decimal(value.replace(",", "")) if value else None
    except InvalidOperation:
        return None


def _money(value: Decimal | None) -> float | None:
    return float(value) if value is not None and value.is_finite() else None


def _voided(t: _Tree, line_item: etree._Element) -> bool:
    """A line cancelled on the till: LineItem@VoidFlag, LineItem/Void, or a VoidFlag on the line's content."""
    if t.flag(line_item, "VoidFlag") or t.child(line_item, "Void") is not None:
        return True
    return any(t.flag(part, "VoidFlag") for part in line_item if isinstance(part.tag, str))


def _no_receipt(t: _Tree, ret: etree._Element) -> bool:
    """Return without proof of purchase: Disposal@Method=NoReceipt, a NoReceipt flag, or no receipt link."""
    method = (attr(t.child(ret, "Disposal"), "Method") or t.text(ret, "Disposal") or "").replace(" ", "").lower()
    if method:
        return method in {"noreceipt", "unreceipted", "withoutreceipt", "nonreceipted"}
    if t.flag(ret, "NoReceiptFlag") or t.flag(ret, "NoReceipt"):
        return True
    has_link = any(t.child(ret, name) is not None for name in ("TransactionLink", "OriginalTransaction", "Receipt", "ReceiptNumber"))
    return not has_link


def _tender(t: _Tree, tender: etree._Element) -> dict:
    card = _first(t.child(tender, "CreditDebit"), t.child(tender, "Card"))
    pan = t.text(card, "PrimaryAccountNumber") or t.text(card, "MaskedPAN") or attr(card, "PrimaryAccountNumber")
    digits = re.sub(r"\D", "", pan or "")
    tender_type = attr(tender, "TenderType") or t.text(tender, "TenderType")
    if tender_type is None and card is not None:
        tender_type = "CreditDebit"
    return {
        "type": tender_type,
        "type_code": attr(tender, "TypeCode") or t.text(tender, "TypeCode"),
        "amount": _amount(t.text(tender, "Amount")),
        "card_type": attr(card, "CardType") or t.text(card, "CardType") or attr(card, "CardBrand") or t.text(card, "CardBrand"),
        "last4": digits[-4:] if len(digits) >= 4 else None,
    }


def _kind(t: _Tree, retail: etree._Element | None, control: etree._Element | None, status: str | None, sales: int,
          returns: int) -> str:
    if control is not None:
        if t.child(control, "NoSale") is not None:
            return "no_sale"
        if t.child(control, "PostVoid") is not None or t.child(control, "VoidTransaction") is not None:
            return "post_void"
        return "control"
    if retail is None:
        return "other"
    if (status or "").replace(" ", "").lower() in _VOIDED_STATUS:
        return "post_void"
    if sales and returns:
        return "exchange"
    if returns:
        return "return"
    return "sale" if sales else "other"


def transaction_record(tx: etree._Element) -> dict:
    """Flatten one ARTS Transaction into the record described in the module docstring."""
    t = _Tree()
    retail = t.child(tx, "RetailTransaction")
    control = t.child(tx, "ControlTransaction")
    status = attr(retail, "TransactionStatus") or t.text(retail, "TransactionStatus") or attr(tx, "TransactionStatus")
    operator = t.child(tx, "OperatorID")

    line_items = t.children(retail, "LineItem")
    live = [li for li in line_items if not _voided(t, li)]
    sales = [s for li in live for s in t.children(li, "Sale")]
    returns = [r for li in live for r in t.children(li, "Return")]
    any_sales = sales or [s for li in line_items for s in t.children(li, "Sale")]
    any_returns = returns or [r for li in line_items for r in t.children(li, "Return")]
    tenders = [_tender(t, tender) for li in live for tender in t.children(li, "Tender")]

    totals = t.children(retail, "Total")
    total = next((x for x in totals if attr(x, "TotalType") == "TransactionGrandAmount"), None)
    if total is None:  # exports with a single untyped Total
        total = next((x for x in totals if attr(x, "TotalType") is None), None)
    refunds = [x["amount"] for x in tenders if (x["type_code"] or "").lower() == "refund" and x["amount"] is not None]
    first_card = next((x for x in tenders if x["last4"] or (x["type"] or "").lower() in _CARD_TENDERS), None)
    void_ref = None
    if control is not None:
        voided = _first(t.child(control, "PostVoid"), t.child(control, "VoidTransaction"))
        if voided is not None:
            void_ref = next((s.text.strip() for s in voided.iter("{*}SequenceNumber") if s.text and s.text.strip()), None)

    return {
        "store_id": t.text(tx, "RetailStoreID") or t.text(tx, "BusinessUnit", "UnitID"),
        "workstation_id": t.text(tx, "WorkstationID"),
        "sequence": t.text(tx, "SequenceNumber"),
        "transaction_ref": t.text(tx, "TransactionID"),
        "business_day": t.text(tx, "BusinessDayDate"),
        "begin": t.text(tx, "BeginDateTime"),
        "end": t.text(tx, "EndDateTime"),
        "operator_id": t.text(operator) or attr(operator, "OperatorID"),
        "operator_name": attr(operator, "OperatorName"),
        "currency": t.text(tx, "CurrencyCode") or attr(total, "Currency") or attr(total, "CurrencyCode"),
        "status": status,
        "kind": _kind(t, retail, control, status, len(any_sales), len(any_returns)),
        "total": _money(_amount(t.text(total))),
        "item_count": len(sales) + len(returns),
        "return_count": len(returns),
        "return_no_receipt_count": sum(1 for r in returns if _no_receipt(t, r)),
        "line_void_count": len(line_items) - len(live),
        "tenders": [{**x, "amount": _money(x["amount"])} for x in tenders],
        "card_last4": first_card["last4"] if first_card else None,
        "card_brand": first_card["card_type"] if first_card else None,
        "refund_amount": _money(sum(refunds, Decimal(0))) if refunds else None,
        "voided_sequence": void_ref,
        "control": next((local_name(c) for c in control if isinstance(c.tag, str)), None) if control is not None else None,
    }


FORMAT = Format(
    name="poslog",
    channel="pos",
    sql=load_sql("poslog"),
    looks_like=looks_like,
    records=iter_transactions,
    document=True,
    description="ARTS POSLog XML till transactions",
)
