"""ARTS POSLog XML (NRF ARTS IXRetail): one record per till `<Transaction>`.

Till exports differ in namespace prefixes (or none), ARTS schema version and which optional parts they
fill in, so elements are matched on local names and each fact is looked for where the variants put it.
The record is a flat JSON summary of the transaction (who, where, what kind, how paid, what was
voided or returned without receipt), which is what loss-prevention detections key on; line items
themselves are counted, not kept.

Record keys: store_id, workstation_id, sequence, transaction_ref, business_day, begin, end, operator_id,
operator_name, currency, status, kind (sale | return | exchange | no_sale | post_void | sign_on | sign_off |
till_control | control | other), total, item_count (merchandise lines, not voided), return_count,
return_no_receipt_count, line_void_count, tenders [{type, type_code, amount, card_type, card_brand, last4}],
card_last4, card_brand and card_type (of the first card tender), refund_amount (sum of Refund tenders),
change_amount (TenderChange given back), training (Transaction@TrainingModeFlag: a cashier in training,
no real money), voided_sequence, control (what a ControlTransaction did),
tender_control (what a TenderControlTransaction did: Loan, Pickup, TillSettle...).

Card kind and card brand are different facts that exports put in different places. ARTS
`CreditDebit/@CardType` is the kind (Credit, Debit, ...); the brand is a `CardBrand`-like child or
attribute, or a vendor extension (NCR ACS: `acs:CreditDescription="Visa"`). Some exports write the
brand into CardType itself (`CardType="Visa"`): a CardType that is not a kind is taken as the brand.
Item identifiers (GTIN/POSItemID) are never read: only card tenders' account numbers give last4.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import BinaryIO, Iterator

from lxml import etree

from storewatch.ingest.formats.base import Format, Record, load_sql
from storewatch.ingest.xmlstream import iter_xml_records, local_tag

_TRUE = {"true", "1", "yes", "y"}
_VOIDED_STATUS = {"postvoided", "postvoid", "voided"}
_CARD_TENDERS = {"creditdebit", "credit", "debit", "card", "creditcard", "debitcard", "bankcard", "paymentcard"}
_CARD_KINDS = {"credit", "debit", "prepaid", "charge", "deferreddebit", "creditdebit", "gift", "fleet", "ebt", "storedvalue",
               "purchasing", "commercial", "unknown"}
# where exports name the card's brand (scheme or issuer), on the CreditDebit element or as its children
_BRAND_NAMES = ("CardBrand", "Brand", "CreditDescription", "CardName", "CardDescription", "CardScheme", "Scheme",
                "CardIssuer", "IssuerName", "CardProduct")
_BRAND_SET = frozenset(_BRAND_NAMES)
_CONTROL_KINDS = {"OperatorSignOn": "sign_on", "OperatorSignOff": "sign_off", "NoSale": "no_sale",
                  "PostVoid": "post_void", "VoidTransaction": "post_void"}
_CONTROL_META = {"ReasonCode", "Reason", "ManagerApproval", "TransactionLink"}
_HEAD = re.compile(r"<(?:[\w.-]+:)?POSLog[\s>/]|<(?:[\w.-]+:)?Transaction[\s>].{0,4000}?<(?:[\w.-]+:)?(?:RetailStoreID|BusinessUnit)[\s>]",
                   re.S)


def looks_like(head: str) -> bool:
    """A POSLog root, or an ARTS Transaction carrying a RetailStoreID (2.x) or BusinessUnit (6.0), in the first ~64 KB."""
    return bool(_HEAD.search(head[:65536]))


def iter_transactions(stream: BinaryIO) -> Iterator[Record]:
    """One Record per outermost Transaction, streamed; damage ends the file with one error Record."""
    return iter_xml_records(stream, ("Transaction",), transaction_record)


Kids = dict[str, list[etree._Element]]


def _kids(el: etree._Element | None) -> Kids:
    """Children of an element by local name, in document order. Every fact of a transaction is looked
    up by local name (exports mix default namespaces, prefixes and none), and indexing each element's
    children once is far cheaper than lxml's namespace-wildcard matching for every lookup: the till
    estates hold millions of transactions, and this walk is the reader's largest cost."""
    found: Kids = {}
    if el is None:
        return found
    for kid in el:
        tag = kid.tag
        if tag.__class__ is str:
            name = local_tag(tag)
            same = found.get(name)
            if same is None:
                found[name] = [kid]
            else:
                same.append(kid)
    return found


def _first(kids: Kids, name: str) -> etree._Element | None:
    found = kids.get(name)
    return found[0] if found else None


def _own_text(el: etree._Element | None) -> str | None:
    value = el.text if el is not None else None
    return (value.strip() or None) if value else None


def _text(kids: Kids, name: str) -> str | None:
    """Stripped text of the first child with this local name; None when absent or blank."""
    found = kids.get(name)  # (`_own_text(_first(...))` inlined: this runs two dozen times a transaction)
    value = found[0].text if found else None
    return (value.strip() or None) if value else None


def _attr(el: etree._Element | None, name: str) -> str | None:
    """Attribute by local name (prefixed attributes included); None when absent or blank."""
    if el is None:
        return None
    for key, value in el.items():
        if key == name or key.rpartition("}")[2] == name:
            return value.strip() or None
    return None


def _attrs(el: etree._Element | None) -> dict[str, str]:
    """An element's attributes by local name, the first of each name (as `_attr` finds it): one pass for
    an element whose attributes are looked up many times."""
    found: dict[str, str] = {}
    if el is not None:
        for key, value in el.items():
            found.setdefault(key.rpartition("}")[2], value)
    return found


def _value(attrs: dict[str, str], name: str) -> str | None:
    """`_attr` over an `_attrs` dict."""
    value = attrs.get(name)
    return (value.strip() or None) if value is not None else None


def _flag(el: etree._Element | None, kids: Kids, name: str) -> bool:
    """A boolean given as attribute or as child element (ARTS uses both)."""
    value = _attr(el, name) or _text(kids, name)
    return value is not None and value.lower() in _TRUE


def _amount(value: str | None) -> Decimal | None:
    try:
        return Decimal(value.replace(",", "")) if value else None
    except InvalidOperation:
        return None


def _money(value: Decimal | None) -> float | None:
    return float(value) if value is not None and value.is_finite() else None


def _voided(line_item: etree._Element, kids: Kids) -> bool:
    """A line cancelled on the till: LineItem@VoidFlag, LineItem/Void, or a VoidFlag on the line's content."""
    if _flag(line_item, kids, "VoidFlag") or "Void" in kids:
        return True
    for parts in kids.values():
        for part in parts:  # one lookup each: lxml's own matching beats indexing the part's children
            value = _attr(part, "VoidFlag") or _own_text(next(part.iterchildren("{*}VoidFlag"), None))
            if value is not None and value.lower() in _TRUE:
                return True
    return False


def _no_receipt(ret: etree._Element) -> bool:
    """Return without proof of purchase: Disposal@Method=NoReceipt, a NoReceipt flag, or no receipt link."""
    kids = _kids(ret)
    disposal = _first(kids, "Disposal")
    method = (_attr(disposal, "Method") or _own_text(disposal) or "").replace(" ", "").lower()
    if method:
        return method in {"noreceipt", "unreceipted", "withoutreceipt", "nonreceipted"}
    if _flag(ret, kids, "NoReceiptFlag") or _flag(ret, kids, "NoReceipt"):
        return True
    return not any(name in kids for name in ("TransactionLink", "OriginalTransaction", "Receipt", "ReceiptNumber"))


def _squash(value: str | None) -> str:
    """`DKT:CreditCard`, `CREDIT_CARD`, `Credit Card` -> `creditcard`: vendors prefix and spell tender names."""
    return re.sub(r"[^a-z]", "", (value or "").rpartition(":")[2].lower())


def _card_kind_and_brand(attrs: dict[str, str], cards: Kids) -> tuple[str | None, str | None]:
    """(credit/debit kind, brand) of a card tender (its attributes and children); see the module docstring."""
    card_type = _value(attrs, "CardType") or _text(cards, "CardType")
    brand = None
    if not _BRAND_SET.isdisjoint(attrs) or not _BRAND_SET.isdisjoint(cards):  # usually neither names one
        brand = next((v for name in _BRAND_NAMES if (v := _value(attrs, name) or _text(cards, name))), None)
    if card_type is not None and _squash(card_type) not in _CARD_KINDS:
        return None, brand or card_type
    return card_type, brand


def _tender(tender: etree._Element) -> dict:
    kids = _kids(tender)
    card = _first(kids, "CreditDebit")
    if card is None:
        card = _first(kids, "Card")
    cards, card_attrs = _kids(card), _attrs(card)
    pan = _text(cards, "PrimaryAccountNumber") or _text(cards, "MaskedPAN") or _value(card_attrs, "PrimaryAccountNumber")
    digits = re.sub(r"\D", "", pan or "")
    tender_type = _attr(tender, "TenderType") or _text(kids, "TenderType")
    if tender_type is None and card is not None:
        tender_type = "CreditDebit"
    kind, brand = _card_kind_and_brand(card_attrs, cards)
    change = _first(kids, "TenderChange")
    return {
        "type": tender_type,
        "type_code": _attr(tender, "TypeCode") or _text(kids, "TypeCode"),
        "amount": _amount(_text(kids, "Amount")),
        "card_type": kind,
        "card_brand": brand,
        "last4": digits[-4:] if len(digits) >= 4 else None,
        "change": _amount(_text(_kids(change), "Amount") or _own_text(change)) if change is not None else None,
    }


def _control_action(control: Kids | None) -> str | None:
    """What a ControlTransaction did: its first child that is not a reason, approval or link."""
    if control is None:
        return None
    return next((name for name in control if name not in _CONTROL_META), None)


def _kind(control: Kids | None, tender_control: bool, retail: etree._Element | None, status: str | None,
          sales: int, returns: int) -> str:
    if control is not None:
        for name, kind in _CONTROL_KINDS.items():
            if name in control:
                return kind
        return "control"
    if tender_control:
        return "till_control"
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
    top = _kids(tx)
    retail = _first(top, "RetailTransaction")
    control = _first(top, "ControlTransaction")
    tender_control = _first(top, "TenderControlTransaction")
    rkids = _kids(retail)
    ckids = _kids(control) if control is not None else None
    status = _attr(retail, "TransactionStatus") or _text(rkids, "TransactionStatus") or _attr(tx, "TransactionStatus")
    if status is None and _flag(tx, top, "CancelFlag"):  # Xstore and ARTS 6: Transaction@CancelFlag
        status = "Cancelled"
    operator = _first(top, "OperatorID")

    line_items = [(li, _kids(li)) for li in rkids.get("LineItem", ())]
    live = [(li, kids) for li, kids in line_items if not _voided(li, kids)]
    sales = [s for _, kids in live for s in kids.get("Sale", ())]
    returns = [r for _, kids in live for r in kids.get("Return", ())]
    any_sales = len(sales) or sum(len(kids.get("Sale", ())) for _, kids in line_items)
    any_returns = len(returns) or sum(len(kids.get("Return", ())) for _, kids in line_items)
    tenders = [_tender(tender) for _, kids in live for tender in kids.get("Tender", ())]

    totals = rkids.get("Total", ())
    total = next((x for x in totals if _attr(x, "TotalType") == "TransactionGrandAmount"), None)
    if total is None:  # exports with a single untyped Total
        total = next((x for x in totals if _attr(x, "TotalType") is None), None)
    refunds = [x["amount"] for x in tenders if (x["type_code"] or "").lower() == "refund" and x["amount"] is not None]
    first_card = next((x for x in tenders if x["last4"] or x["card_brand"] or _squash(x["type"]) in _CARD_TENDERS), None)
    changes = [x["change"] for x in tenders if x["change"] is not None]
    void_ref = None
    if ckids is not None:
        voided = _first(ckids, "PostVoid")
        if voided is None:
            voided = _first(ckids, "VoidTransaction")
        if voided is not None:
            void_ref = next((s.text.strip() for s in voided.iter("{*}SequenceNumber") if s.text and s.text.strip()), None)

    return {
        "store_id": _text(top, "RetailStoreID") or _text(_kids(_first(top, "BusinessUnit")), "UnitID"),
        "workstation_id": _text(top, "WorkstationID"),
        "sequence": _text(top, "SequenceNumber"),
        "transaction_ref": _text(top, "TransactionID"),
        "business_day": _text(top, "BusinessDayDate"),
        "begin": _text(top, "BeginDateTime"),
        "end": _text(top, "EndDateTime"),
        "operator_id": _own_text(operator) or _attr(operator, "OperatorID"),
        "operator_name": _attr(operator, "OperatorName"),
        "currency": _text(top, "CurrencyCode") or _attr(total, "Currency") or _attr(total, "CurrencyCode"),
        "status": status,
        "training": _flag(tx, top, "TrainingModeFlag"),
        "kind": _kind(ckids, tender_control is not None, retail, status, any_sales, any_returns),
        "total": _money(_amount(_own_text(total))),
        "item_count": len(sales) + len(returns),
        "return_count": len(returns),
        "return_no_receipt_count": sum(1 for r in returns if _no_receipt(r)),
        "line_void_count": len(line_items) - len(live),
        "tenders": [{**x, "amount": _money(x["amount"]), "change": _money(x["change"])} for x in tenders],
        "card_last4": first_card["last4"] if first_card else None,
        "card_brand": first_card["card_brand"] if first_card else None,
        "card_type": first_card["card_type"] if first_card else None,
        "refund_amount": _money(sum(refunds, Decimal(0))) if refunds else None,
        "change_amount": _money(sum(changes, Decimal(0))) if changes else None,
        "voided_sequence": void_ref,
        "control": _control_action(ckids),
        "tender_control": _control_action(_kids(tender_control)) if tender_control is not None else None,
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
