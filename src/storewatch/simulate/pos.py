"""ARTS POSLog XML, one file per store per business day.

Shapes used (consistently): sales and returns are RetailTransaction with TransactionStatus="Finished";
a voided line is <LineItem VoidFlag="true">; a post-void is a later RetailTransaction with
TransactionStatus="PostVoided" that repeats the voided sale and links it by <TransactionLink>;
a no-sale is <ControlTransaction><NoSale/></ControlTransaction>.
"""

from __future__ import annotations

from dataclasses import dataclass, field


from storewatch.simulate import clock
from storewatch.simulate.estate import Store
from storewatch.simulate.world import World

NS = "http://www.nrf-arts.org/IXRetail/namespace/"
CARD_TYPES = ("Visa", "MasterCard", "AmericanExpress", "Discover")
TX_PER_STORE_DAY = 150


@dataclass
class PosTx:
    ts: float
    store: Store
    ws: int
    operator: str
    kind: str = "sale"  # sale | return | nosale | postvoid
    items: list[tuple[str, float, int, bool]] = field(default_factory=list)  # sku, price, qty, voided
    tender: str = "CreditDebit"  # CreditDebit | Cash
    card_type: str = "Visa"
    last4: str = "0000"
    disposal: str = "Receipted"
    comment: str | None = None
    voided: "PosTx | None" = None
    seq: int = 0

    @property
    def total(self) -> float:
        return round(sum(p * q for _, p, q, v in self.items if not v), 2)


def path(store: Store, day_ts: float) -> str:
    return f"pos/store-{store.id}/poslog-{clock.date(day_ts)}.xml"


def _line_items(tx: PosTx, return_: bool) -> list[str]:
    out = []
    tag = "Return" if return_ else "Sale"
    for sku, price, qty, voided in tx.items:
        disposal = f'\n          <Disposal Method="{tx.disposal}"/>' if return_ else ""
        void = ' VoidFlag="true"' if voided else ""
        out.append(f"""      <LineItem{void}>
        <{tag} ItemType="Stock">
          <ItemID>{sku}</ItemID>{disposal}
          <RegularSalesUnitPrice>{price:.2f}</RegularSalesUnitPrice>
          <ExtendedAmount>{price * qty:.2f}</ExtendedAmount>
          <Quantity>{qty}</Quantity>
        </{tag}>
      </LineItem>""")
    return out


def _tender(tx: PosTx, type_code: str) -> str:
    card = (f"""
          <CreditDebit CardType="{tx.card_type}">
            <PrimaryAccountNumber>************{tx.last4}</PrimaryAccountNumber>
          </CreditDebit>""" if tx.tender == "CreditDebit" else "")
    return f"""      <LineItem>
        <Tender TenderType="{tx.tender}" TypeCode="{type_code}">
          <Amount>{tx.total:.2f}</Amount>{card}
        </Tender>
      </LineItem>"""


def render(tx: PosTx, business_day: str) -> str:
    """One <Transaction> element."""
    head = f"""  <Transaction>
    <RetailStoreID>{tx.store.id}</RetailStoreID>
    <WorkstationID>{tx.ws}</WorkstationID>
    <SequenceNumber>{tx.seq}</SequenceNumber>
    <BusinessDayDate>{business_day}</BusinessDayDate>
    <BeginDateTime>{clock.iso_s(tx.ts)}</BeginDateTime>
    <EndDateTime>{clock.iso_s(tx.ts + 70)}</EndDateTime>
    <OperatorID>{tx.operator}</OperatorID>
    <CurrencyCode>USD</CurrencyCode>
"""
    note = f"    <!-- {tx.comment} -->\n" if tx.comment else ""
    if tx.kind == "nosale":
        body = "    <ControlTransaction>\n      <NoSale/>\n    </ControlTransaction>\n"
    else:
        status = "PostVoided" if tx.kind == "postvoid" else "Finished"
        src = tx.voided if tx.kind == "postvoid" and tx.voided else tx
        src_items = src.items
        link = ""
        if tx.kind == "postvoid" and tx.voided:
            link = (f"      <TransactionLink ReasonCode=\"PostVoid\">\n        <RetailStoreID>{src.store.id}</RetailStoreID>\n"
                    f"        <WorkstationID>{src.ws}</WorkstationID>\n        <SequenceNumber>{src.seq}</SequenceNumber>\n"
                    f"      </TransactionLink>\n")
        shown = PosTx(tx.ts, tx.store, tx.ws, tx.operator, src.kind, src_items, src.tender, src.card_type, src.last4,
                      src.disposal)
        is_return = shown.kind == "return"
        parts = _line_items(shown, is_return) + [_tender(shown, "Refund" if is_return else "Sale")]
        body = (f'    <RetailTransaction TransactionStatus="{status}">\n{link}' + "\n".join(parts)
                + f'\n      <Total TotalType="TransactionGrandAmount">{shown.total:.2f}</Total>\n    </RetailTransaction>\n')
    return head + note + body + "  </Transaction>"


def _item(world: World) -> tuple[str, float]:
    p = world.est.products[int(world.rng.integers(0, len(world.est.products)))]
    return p[0], p[3]


def sale(world: World, ts: float, store: Store, ws: int, operator: str, n_items: int = 1, void_one: bool = False) -> PosTx:
    rng = world.rng
    items = [(*_item(world), 1, False) for _ in range(n_items)]
    if void_one:
        items.insert(int(rng.integers(0, len(items))), (*_item(world), 1, True))
    card = rng.random() < 0.68
    return PosTx(ts, store, ws, operator, "sale", items, "CreditDebit" if card else "Cash",
                 CARD_TYPES[int(rng.choice(4, p=[0.55, 0.3, 0.1, 0.05]))], f"{int(rng.integers(0, 10000)):04d}")


def return_(world: World, ts: float, store: Store, ws: int, operator: str, receipted: bool, last4: str | None = None,
            price: float | None = None) -> PosTx:
    sku, p = _item(world)
    tx = PosTx(ts, store, ws, operator, "return", [(sku, price or p, 1, False)],
               "CreditDebit" if last4 or world.rng.random() < 0.7 else "Cash", "Visa",
               last4 or f"{int(world.rng.integers(0, 10000)):04d}", "Receipted" if receipted else "NoReceipt")
    return tx


def day_transactions(world: World, store: Store, day_start: float) -> list[PosTx]:
    """Ordinary trading: mostly sales, a few returns (some without receipt), rare voids and no-sales."""
    rng, est = world.rng, world.est
    habits = est.profile
    ts = clock.times(rng, TX_PER_STORE_DAY * store.traffic * est.rate["pos"], day_start, day_start + clock.DAY,
                     habits.store_curve)
    returns, nosales, postvoids, voids = habits.pos_kinds
    txs: list[PosTx] = []
    kinds = rng.random(len(ts))
    for t, r in zip(ts, kinds):
        ws = int(rng.choice(store.workstations))
        op = store.employees[int(rng.integers(0, len(store.employees)))]
        if r < returns:
            txs.append(return_(world, float(t), store, ws, op, receipted=rng.random() < habits.receipted))
        elif r < nosales:
            txs.append(PosTx(float(t), store, ws, op, "nosale"))
        elif r < postvoids and txs and txs[-1].kind == "sale":
            txs.append(PosTx(float(t), store, txs[-1].ws, op, "postvoid", voided=txs[-1]))
        else:
            txs.append(sale(world, float(t), store, ws, op, int(rng.choice(habits.pos_items)), void_one=r > voids))
    return txs


def write_day(world: World, day: int) -> None:
    """Render one business day for every store, merging injected transactions."""
    est = world.est
    day_start = est.start + day * clock.DAY
    business_day = clock.date(day_start)
    for store in est.stores:
        txs = day_transactions(world, store, day_start) + world.pos_extra.pop((store.id, day), [])
        txs.sort(key=lambda x: x.ts)
        seq = int(world.rng.integers(1000, 9000))
        for tx in txs:
            tx.seq = seq
            seq += int(world.rng.integers(1, 3))
        rel = path(store, day_start)
        f = world.out / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        body = "\n".join(render(tx, business_day) for tx in txs)
        f.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<POSLog xmlns="{NS}">\n{body}\n</POSLog>\n',
                     encoding="utf-8")
        world.sinks["pos"].records[rel] = len(txs)
        world.sinks["pos"].malformed[rel] = 0


def inject(world: World, tx: PosTx) -> None:
    world.pos_extra.setdefault((tx.store.id, world.day_of(tx.ts)), []).append(tx)
