"""The simulated retailer: brand, stores, staff, customers, servers and address space, all drawn from the seed.

Everything a detector might be tempted to key on (names, ids, IPs, host counts, rates) comes from here
and varies with the seed; generators and scenarios only ever pick from an Estate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from storewatch.simulate import ids, profiles
from storewatch.simulate.profiles import Profile

BRANDS = [
    ("Northwind Outfitters", "northwind-outfitters.com", "NW", "northwind"),
    ("Ridgeback Supply Co", "ridgebacksupply.com", "RB", "ridgeback"),
    ("Cedarline Outdoor", "cedarline-outdoor.com", "CL", "cedarline"),
    ("Bluefjord Apparel", "bluefjord.com", "BF", "bluefjord"),
    ("Summitcrest Outfitters", "summitcrest.com", "SC", "summitcrest"),
    ("Harborpine Goods", "harborpine.com", "HP", "harborpine"),
    ("Tamarack Trail Co", "tamaracktrail.com", "TT", "tamarack"),
]
FIRST = ("james mary john patricia robert jennifer michael linda william elizabeth david barbara richard susan "
         "joseph jessica thomas sarah chris karen daniel nancy matthew lisa anthony betty mark sandra raj priya "
         "wei li carlos maria ahmed fatima olga ivan yuki kenji amara kwame sofia lucas emma noah olivia liam "
         "ava ethan mia aiden zoe omar leila diego ana").split()
LAST = ("smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez "
        "wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark "
        "ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams "
        "nelson baker hall rivera campbell mitchell carter roberts patel kim chen singh okafor novak").split()
MAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "aol.com", "proton.me")
STREETS = ("Elm St", "Oak Ave", "Maple Dr", "Pine Rd", "Cedar Ln", "Lakeview Blvd", "Main St", "Hill St",
           "Park Ave", "Washington St", "River Rd", "Sunset Blvd", "2nd St", "Birch Way")
CITIES = (("Springfield", "IL"), ("Portland", "OR"), ("Austin", "TX"), ("Denver", "CO"), ("Columbus", "OH"),
          ("Madison", "WI"), ("Raleigh", "NC"), ("Boise", "ID"), ("Tucson", "AZ"), ("Albany", "NY"),
          ("Fresno", "CA"), ("Omaha", "NE"), ("Richmond", "VA"), ("Spokane", "WA"), ("Mesa", "AZ"))
PRODUCTS = ("Trail Jacket", "Rain Shell", "Wool Beanie", "Hiking Boots", "Fleece Pullover", "Down Vest",
            "Camp Tent", "Sleeping Bag", "Daypack", "Trekking Poles", "Base Layer", "Gaiters", "Headlamp",
            "Water Bottle", "Trail Runners", "Softshell Pants", "Merino Socks", "Camp Stove", "Insulated Parka",
            "Sun Hat")
UAS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 Edg/119.0.0.0",
)
CARD_BRANDS = ("visa", "mastercard", "amex", "discover")
# First octets never handed out as "public" addresses: private, loopback, CGNAT, link-local, doc/test
# ranges, multicast, and the crawler ranges that benign verified bots use.
_RESERVED_FIRST = {0, 10, 66, 100, 127, 157, 169, 172, 192, 198, 203} | set(range(224, 256))
PUBLIC_FIRST = np.array([o for o in range(1, 224) if o not in _RESERVED_FIRST])


@dataclass
class Store:
    num: int
    id: str  # "0007"
    workstations: list[int]
    employees: list[str]
    cameras: list[str]
    doors: list[str]
    traffic: float  # relative footfall

    def pos_host(self, ws: int) -> str:
        return f"POS-{self.id}-{ws:02d}"

    def pos_ip(self, ws: int) -> str:
        return f"10.{self.num}.2.{10 + ws}"

    @property
    def office_host(self) -> str:
        return f"BO-{self.id}"

    @property
    def office_ip(self) -> str:
        return f"10.{self.num}.3.10"

    @property
    def gateway(self) -> str:
        return f"10.{self.num}.0.1"


@dataclass
class Customers:
    """Struct-of-lists: fast to index with numpy arrays of customer numbers."""

    first: list[str]
    last: list[str]
    email: list[str]
    user_id: list[str]
    shop_id: list[int]
    ip: list[str]
    ua: list[str]
    address1: list[str]
    city: list[str]
    province: list[str]
    zip: list[str]
    card_brand: list[str]
    card_last4: list[str]
    card_fp: list[str]
    card_exp: list[tuple[int, int]]
    orders_count: np.ndarray

    def __len__(self) -> int:
        return len(self.email)


@dataclass
class Server:
    name: str
    ip: str
    role: str
    also: tuple[str, ...] = ()  # other jobs the box does (a small business runs shop and database on one)

    def does(self, role: str) -> bool:
        return role == self.role or role in self.also


@dataclass
class Estate:
    rng: np.random.Generator
    seed: int
    scale: float
    days: int
    start: float
    brand: str
    domain: str
    sku_prefix: str
    keyword: str
    ad_domain: str
    stores: list[Store]
    customers: Customers
    servers: list[Server]
    staff: list[tuple[str, str]]  # (username, email) of head-office staff
    ops_users: list[str]
    office_ip: str
    bastion_ip: str
    monitor_ips: list[tuple[str, str]]  # (ip, ua)
    products: list[tuple[str, str, str, float]]  # (sku, title, slug, price)
    rate: dict[str, float]
    profile: Profile
    used_ips: set[str] = field(default_factory=set)
    auth0_client: str = ""

    @property
    def end(self) -> float:
        return self.start + self.days * 86400

    def server(self, role: str) -> list[Server]:
        return [s for s in self.servers if s.does(role)]

    def fresh_ips(self, n: int, subnet16: tuple[int, int] | None = None, subnet24: tuple[int, int, int] | None = None) -> list[str]:
        """Public IPs nobody else in the estate uses (attackers must not collide with customers)."""
        out: list[str] = []
        while len(out) < n:
            k = (n - len(out)) * 2
            a = (np.full(k, subnet16[0]) if subnet16 else np.full(k, subnet24[0]) if subnet24
                 else self.rng.choice(PUBLIC_FIRST, k))
            b = (np.full(k, subnet16[1]) if subnet16 else np.full(k, subnet24[1]) if subnet24
                 else self.rng.integers(0, 256, k))
            c = np.full(k, subnet24[2]) if subnet24 else self.rng.integers(0, 256, k)
            d = self.rng.integers(1, 255, k)
            for ip in (f"{w}.{x}.{y}.{z}" for w, x, y, z in zip(a, b, c, d)):
                if ip not in self.used_ips and len(out) < n:
                    self.used_ips.add(ip)
                    out.append(ip)
        return out

    def random_public(self, n: int) -> list[str]:
        """Anonymous public IPs (mobile shoppers, CDNs) that never collide with a reserved actor IP."""
        a = self.rng.choice(PUBLIC_FIRST, n)
        b, c, d = self.rng.integers(0, 256, n), self.rng.integers(0, 256, n), self.rng.integers(1, 255, n)
        out = [f"{w}.{x}.{y}.{z}" for w, x, y, z in zip(a, b, c, d)]
        return [ip if ip not in self.used_ips else f"{a[0]}.{b[0]}.{c[0]}.255" for ip in out]

    def fresh_ip(self) -> str:
        return self.fresh_ips(1)[0]

    def fresh_subnet16(self) -> tuple[int, int]:
        return int(self.rng.choice(PUBLIC_FIRST)), int(self.rng.integers(0, 256))

    def at(self, lo: float = 0.05, hi: float = 0.9, duration: float = 0) -> float:
        """A seeded moment inside the run, leaving room for an attack of `duration` seconds."""
        span = self.end - self.start - duration
        return self.start + float(self.rng.uniform(lo, hi)) * max(span, 1)


def _customers(rng: np.random.Generator, n: int, estate_ips: set[str]) -> Customers:
    fi = rng.integers(0, len(FIRST), n)
    li = rng.integers(0, len(LAST), n)
    num = rng.integers(1, 1000, n)
    dom = rng.integers(0, len(MAIL_DOMAINS), n)
    style = int(rng.integers(0, 3))  # seed-varied email convention
    first = [FIRST[i].title() for i in fi]
    last = [LAST[i].title() for i in li]
    email, seen = [], set()
    for i in range(n):
        f, l = FIRST[fi[i]], LAST[li[i]]
        local = (f"{f}.{l}{num[i]}", f"{f[0]}{l}{num[i]}", f"{f}_{l}{num[i]}")[(style + i % 5 // 4) % 3]
        e = f"{local}@{MAIL_DOMAINS[dom[i]]}"
        while e in seen:
            e = f"{local}{rng.integers(10, 99)}@{MAIL_DOMAINS[dom[i]]}"
        seen.add(e)
        email.append(e)
    ips = []
    a = rng.choice(PUBLIC_FIRST, n)
    b, c, d = rng.integers(0, 256, n), rng.integers(0, 256, n), rng.integers(1, 255, n)
    for w, x, y, z in zip(a, b, c, d):
        ip = f"{w}.{x}.{y}.{z}"
        estate_ips.add(ip)
        ips.append(ip)
    city = rng.integers(0, len(CITIES), n)
    brands = rng.choice(len(CARD_BRANDS), n, p=[0.5, 0.3, 0.12, 0.08])
    shop_ids = np.unique(rng.integers(10**9, 10**10, n * 2))[:n]
    shop_ids = shop_ids[rng.permutation(len(shop_ids))]
    fps = ids.hex_ids(rng, n, 16)
    return Customers(
        first=first, last=last, email=email,
        user_id=["auth0|" + h for h in ids.hex_ids(rng, n, 24)],
        shop_id=[int(x) for x in shop_ids],
        ip=ips,
        ua=[UAS[i] for i in rng.choice(len(UAS), n, p=_ua_weights())],
        address1=[f"{h} {STREETS[s]}" for h, s in zip(rng.integers(10, 9999, n), rng.integers(0, len(STREETS), n))],
        city=[CITIES[c][0] for c in city], province=[CITIES[c][1] for c in city],
        zip=[f"{z:05d}" for z in rng.integers(10000, 99999, n)],
        card_brand=[CARD_BRANDS[b] for b in brands],
        card_last4=[f"{x:04d}" for x in rng.integers(0, 10000, n)],
        card_fp=[_fingerprint(h) for h in fps],
        card_exp=[(int(m), int(y)) for m, y in zip(rng.integers(1, 13, n), rng.integers(2027, 2032, n))],
        orders_count=rng.geometric(0.15, n),
    )


def _fingerprint(h: str) -> str:
    """Stripe-style 16-character mixed-case fingerprint from hex (no long digit runs by construction)."""
    return "".join(c.upper() if i % 3 == 0 and c.isalpha() else c for i, c in enumerate(h))


def _ua_weights() -> np.ndarray:
    w = np.array([18, 10, 8, 20, 14, 8, 8, 5, 3, 6], float)
    return w / w.sum()


def build(seed: int, scale: float, days: int, start: float, stores: int | None = None,
          profile: str = "classic") -> Estate:
    """Draw the whole estate from the seed; volumes follow scale, the store count scale unless given,
    and the business's habits the profile (profiles.py)."""
    rng = np.random.default_rng(seed)
    habits = profiles.build(profile, seed)
    brand, domain, prefix, keyword = BRANDS[int(rng.integers(0, len(BRANDS)))]
    n_stores = min(250, max(3, int(40 * scale))) if stores is None else min(250, max(1, stores))
    if n_stores < 3:
        habits = profiles.small_business(habits)
    emp_prefix = str(rng.choice(["E", "S", "T", "EM"]))
    store_nums = sorted(int(x) for x in rng.choice(np.arange(1, 251), n_stores, replace=False))
    stores_ = []
    for num in store_nums:
        sid = f"{num:04d}"
        n_ws = int(rng.integers(*habits.tills))
        n_emp = int(rng.integers(*habits.store_staff))
        base = int(rng.integers(1, 40))
        stores_.append(Store(
            num=num, id=sid, workstations=list(range(1, n_ws + 1)),
            employees=[f"{emp_prefix}{num}{base + k:02d}" for k in range(n_emp)],
            cameras=[f"cam-{sid}-{k:02d}" for k in range(1, int(rng.integers(*habits.cameras)))],
            doors=[f"door-{sid}-front", f"door-{sid}-rear"],
            traffic=float(rng.lognormal(0, 0.3)),
        ))
    used: set[str] = set()
    customers = _customers(rng, max(400, int(20000 * scale)), used)
    servers = _servers(rng, n_stores)
    staff = []
    for _ in range(int(rng.integers(*habits.head_office))):
        f, l = FIRST[rng.integers(0, len(FIRST))], LAST[rng.integers(0, len(LAST))]
        user = f"{f[0]}{l}{'' if rng.random() < 0.7 else rng.integers(2, 9)}"
        staff.append((user, f"{f}.{l}@{domain}"))
    staff = list(dict.fromkeys(staff))
    ops = list(dict.fromkeys(["deploy", "ansible"] + [u for u, _ in staff[: int(rng.integers(*habits.ops_staff))]]))
    products = []
    for title in PRODUCTS:
        for variant in range(int(rng.integers(3, 8))):
            sku = f"{prefix}-{int(rng.integers(1000, 9999))}"
            slug = f"{title.lower().replace(' ', '-')}-{int(rng.integers(10, 99))}"
            products.append((sku, title, slug, round(float(rng.uniform(12, 320)), 2)))
    rate = {k: float(rng.uniform(0.8, 1.25)) * habits.volume[k]
            for k in ("web", "auth", "orders", "pos", "net", "endpoint", "db", "social")}
    est = Estate(
        rng=rng, seed=seed, scale=scale, days=days, start=start, brand=brand, domain=domain,
        sku_prefix=prefix, keyword=keyword, ad_domain=prefix, stores=stores_, customers=customers,
        servers=servers, staff=staff, ops_users=ops, office_ip="", bastion_ip="", monitor_ips=[],
        products=products, rate=rate, profile=habits, used_ips=used,
    )
    est.office_ip = est.fresh_ip()
    est.bastion_ip = est.fresh_ip()
    est.monitor_ips = [(ip, ua) for ip, ua in zip(est.fresh_ips(2), ("UptimeRobot/2.0",
                       "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)"))]
    est.auth0_client = ids.hex_id(rng, 8) + "Storefront"
    return est


def _servers(rng: np.random.Generator, n_stores: int) -> list[Server]:
    """The data centre: a chain runs a server per job; one or two shops run the shop, its app and database on
    one box and backups and ETL on another, behind a bastion."""
    next_host = {net: int(rng.integers(5, 40)) for net in (1, 2, 3, 9)}
    fleet = ((("web", (), int(rng.integers(2, 5)), 1), ("app", (), int(rng.integers(2, 4)), 1),
              ("db", (), int(rng.integers(1, 3)), 2), ("etl", (), 1, 3), ("file", (), 1, 3), ("bastion", (), 1, 9),
              ("mon", (), 1, 9)) if n_stores >= 3 else
             (("web", ("app", "db"), 1, 1), ("file", ("etl",), 1, 3), ("bastion", (), 1, 9)))
    names = {"web": "shop", "file": "nas"} if n_stores < 3 else {}
    servers = []
    for role, also, count, net in fleet:
        for k in range(1, count + 1):
            next_host[net] += int(rng.integers(1, 6))
            servers.append(Server(f"{names.get(role, role)}-{k:02d}", f"10.0.{net}.{next_host[net]}", role, also))
    return servers
