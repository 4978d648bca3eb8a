"""X (Twitter) API v2 post objects mentioning the brand."""

from __future__ import annotations

import orjson

from storewatch.simulate import clock, ids
from storewatch.simulate.world import World

TWITTER_EPOCH_MS = 1288834974657
TEMPLATES = ("The {item} I got from {brand} fell apart :(", "Anyone else waiting on a {item} order from {brand}?",
             "{brand} customer service was great today", "Loving my new {item} from {brand}!",
             "{brand} has the best {item} for winter hikes", "Is the {brand} sale on {item}s still on?",
             "Returned a {item} to {brand} today, painless.", "Why is {brand} checkout so slow tonight")


def post_id(world: World, ts: float) -> str:
    """Snowflake-shaped id for the post time, bumped so it is never Luhn-valid."""
    snow = (int(ts * 1000) - TWITTER_EPOCH_MS) << 22 | int(world.rng.integers(0, 1 << 22))
    return str(ids.not_luhn(snow))


def author_id(world: World) -> str:
    return str(int(world.rng.integers(10**8, 10**10)))


def tco(world: World) -> str:
    return "https://t.co/" + "".join(chr(c) for c in world.rng.choice(
        [*range(48, 58), *range(65, 91), *range(97, 123)], 10))


def post(world: World, ts: float, text: str, author: str, urls: list[str] = ()) -> str:
    """One post; each expanded URL gets a t.co wrapper appended to the text, as the API returns it."""
    ents = []
    for u in urls:
        short = tco(world)
        start = len(text) + 1
        text = f"{text} {short}"
        display = u.split("://", 1)[-1]
        ents.append({"start": start, "end": start + len(short), "url": short, "expanded_url": u,
                     "display_url": display if len(display) <= 26 else display[:25] + "\u2026"})
    return orjson.dumps({"id": post_id(world, ts), "text": text, "author_id": author, "created_at": clock.iso_ms(ts),
                         "lang": "en", "entities": {"urls": ents}}).decode()


def emit(world: World, ts: float, text: str, author: str, urls: list[str] = ()) -> None:
    world.sinks["social"].add1(ts, post(world, ts, text, author, urls))


def background(world: World, t0: float, t1: float) -> None:
    est, rng = world.est, world.rng
    for t in clock.times(rng, 1200 * max(est.scale, 0.1) ** 0.5 * est.rate["social"], t0, t1, est.profile.web_curve):
        item = est.products[int(rng.integers(0, len(est.products)))]
        brand = est.brand if rng.random() < 0.5 else est.brand.split()[0]
        text = TEMPLATES[int(rng.integers(0, len(TEMPLATES)))].format(item=item[1].lower(), brand=brand)
        urls = [f"https://www.{est.domain}/products/{item[2]}"] if rng.random() < 0.15 else []
        emit(world, float(t), text, author_id(world), urls)
