"""Brand impersonation: social posts pushing look-alike domains of the retailer."""

from __future__ import annotations

from storewatch.simulate import social
from storewatch.simulate.world import World

HOMOGLYPHS = {"o": "0", "l": "1", "i": "1", "e": "3", "a": "4", "m": "rn", "w": "vv"}
LURES = ("{brand} Black Friday giveaway! Claim your $100 gift card before midnight",
         "Official {brand} clearance: 80% off all jackets today only",
         "{brand} support: verify your account to keep your rewards points",
         "Free {brand} winter parka for the first 500 followers")


def lookalikes(domain: str, rng) -> list[str]:
    """Typosquats, homoglyph swaps and combo-squats of the brand domain."""
    name, tld = domain.rsplit(".", 1)
    out = set()
    swaps = [c for c in HOMOGLYPHS if c in name]
    for c in swaps[:3]:
        out.add(name.replace(c, HOMOGLYPHS[c], 1) + "." + tld)
    i = int(rng.integers(1, len(name) - 1))
    out.add(name[:i] + name[i + 1:] + "." + tld)  # dropped letter
    out.add(f"{name}-{rng.choice(['sale', 'deals', 'outlet', 'support'])}.{rng.choice(['shop', 'store', 'com'])}")
    out.add(f"{name}.{rng.choice(['co', 'net', 'shop'])}")
    return sorted(out - {domain})


def brand_impersonation(world: World) -> None:
    est, rng = world.est, world.rng
    domains = lookalikes(est.domain, rng)[: int(rng.integers(3, 7))]
    authors = [social.author_id(world) for _ in range(int(rng.integers(2, 5)))]
    t0 = est.at(0.02, 0.6)
    t = t0
    for i in range(int(rng.integers(8, 25))):
        t += float(rng.exponential(2400))
        d = domains[i % len(domains)]
        text = LURES[int(rng.integers(0, len(LURES)))].format(brand=est.brand)
        social.emit(world, t, text, authors[i % len(authors)], [f"https://{d}/{rng.choice(['claim', 'promo', 'login', 'gift'])}"])
    world.label("brand_impersonation", t0, t, [("domain", d) for d in domains] + [("user", a) for a in authors],
                f"Posts promoting look-alike domains of {est.domain}: {', '.join(domains)}.")
