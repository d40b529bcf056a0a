#!/usr/bin/env python3
"""Render the newsevents demo corpus from samples/demo/articles.jsonl.

Outputs (all deterministic, regenerated from scratch on every run):

* samples/demo/site/feeds/world.rss       RSS 2.0, "The Meridian Post"   (layout A pages)
* samples/demo/site/feeds/asia.atom       Atom 1.0, "Asia Pacific Ledger" (layout B pages)
* samples/demo/site/feeds/diplomacy.rdf   RSS 1.0 / RDF, "Diplomatic Wire" (layout C pages)
* samples/demo/site/<outlet>/YYYY/MM/DD/<slug>.html   one page per article
* samples/demo/site/static/<outlet>.css   tiny stylesheets referenced by the pages
* tests/data/extraction_gold/<outlet>-<slug>.txt       reference body text

The demo server replaces the literal token {{BASE_URL}} in every served file
with its own origin (e.g. http://127.0.0.1:43121, no trailing slash).

Usage: python samples/demo/build.py      (stdlib only)
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import sys
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ARTICLES = HERE / "articles.jsonl"
SITE = HERE / "site"
GOLD = REPO / "tests" / "data" / "extraction_gold"

BASE = "{{BASE_URL}}"
OUTLETS = ("meridian", "ledger", "wire")
KINDS = ("article", "consent_wall", "missing", "nolink")
OUTLET_NAMES = {
    "meridian": "The Meridian Post",
    "ledger": "Asia Pacific Ledger",
    "wire": "Diplomatic Wire",
}
MONTH_ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTH_FULL = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
DAY_ABBR = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

# "GENEVA, Nov 4 (Diplomatic Wire) - " at the start of a wire story.
DATELINE_RE = re.compile(r"^([A-Z][A-Z .'-]*, ([A-Z][a-z]{2}) (\d{1,2}) \(Diplomatic Wire\) -) ")
# In-article "Recommended stories" box (two consecutive paragraphs in the source text).
REC_HEADING = "Recommended stories"
REC_LIST_RE = re.compile(r"^list of (\d+) itemsend of list$")


# --------------------------------------------------------------------------- helpers


def esc(text: str) -> str:
    """Escape text content."""
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    """Escape an attribute value."""
    return html.escape(text, quote=True)


def parse_ts(value: str) -> datetime:
    if not value.endswith("Z"):
        raise ValueError(f"published must be UTC with a trailing Z: {value!r}")
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def pick(seed: str, n: int) -> int:
    """Deterministic pseudo-random integer in [0, n) derived from a string."""
    return int(hashlib.sha256(seed.encode("utf-8")).hexdigest()[:8], 16) % n


class Article:
    def __init__(self, rec: dict, lineno: int):
        missing = [
            k
            for k in (
                "outlet",
                "slug",
                "title",
                "author",
                "published",
                "summary",
                "paragraphs",
                "kind",
                "date_in_html",
            )
            if k not in rec
        ]
        if missing:
            raise ValueError(f"articles.jsonl line {lineno}: missing keys {missing}")
        self.outlet: str = rec["outlet"]
        self.slug: str = rec["slug"]
        self.title: str = rec["title"]
        self.author: str = rec["author"]
        self.published_raw: str = rec["published"]
        self.published: datetime = parse_ts(rec["published"])
        self.summary: str = rec["summary"]
        self.paragraphs: list[str] = list(rec["paragraphs"])
        self.kind: str = rec["kind"]
        self.date_in_html: bool = bool(rec["date_in_html"])
        if self.outlet not in OUTLETS:
            raise ValueError(f"line {lineno}: unknown outlet {self.outlet!r}")
        if self.kind not in KINDS:
            raise ValueError(f"line {lineno}: unknown kind {self.kind!r}")
        if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", self.slug):
            raise ValueError(f"line {lineno}: bad slug {self.slug!r}")
        if self.kind == "article" and not self.paragraphs:
            raise ValueError(f"line {lineno}: article without paragraphs")
        if self.kind == "article" and self.outlet == "wire":
            m = DATELINE_RE.match(self.paragraphs[0])
            if not m:
                raise ValueError(f"line {lineno}: wire story must open with a dateline")
            mon, day = m.group(2), int(m.group(3))
            if (mon, day) != (MONTH_ABBR[self.published.month - 1], self.published.day):
                raise ValueError(
                    f"line {lineno}: dateline {mon} {day} does not match published date"
                )

    @property
    def path(self) -> str:
        d = self.published
        return f"/{self.outlet}/{d:%Y}/{d:%m}/{d:%d}/{self.slug}.html"

    @property
    def url(self) -> str:
        return BASE + self.path

    @property
    def has_page(self) -> bool:
        return self.kind in ("article", "consent_wall")


def load() -> list[Article]:
    arts = []
    with ARTICLES.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if line.strip():
                arts.append(Article(json.loads(line), i))
    seen = set()
    for a in arts:
        if a.slug in seen:
            raise ValueError(f"duplicate slug {a.slug}")
        seen.add(a.slug)
    return arts


def newest_first(arts):
    return sorted(arts, key=lambda a: (a.published, a.slug), reverse=True)


def others(a: Article, pool: list[Article], count: int, offset: int) -> list[Article]:
    """Deterministically pick `count` other normal articles of the same outlet."""
    cands = [x for x in pool if x.slug != a.slug]
    if not cands:
        return []
    start = (pick(a.slug, len(cands)) + offset) % len(cands)
    return [cands[(start + i) % len(cands)] for i in range(min(count, len(cands)))]


# --------------------------------------------------------------------------- shared boilerplate

COMMENT_POOL = [
    (
        "Margaret H.",
        "Good to see the two sides talking at all. Whether anything changes on the ground is another matter.",
    ),
    (
        "pjackson_71",
        "The article could have explained the background better. Not everyone follows this region closely.",
    ),
    (
        "Olu A.",
        "Agreements like this are easy to sign and hard to implement. Let's check back in six months.",
    ),
    ("Henrik", "Sensible move. Quiet diplomacy usually achieves more than the headlines suggest."),
    ("S. Moreau", "I'd like to know who is actually paying for all of this. No figures anywhere."),
    ("Dev R", "Interesting that the statement came from the ministry and not the leader himself."),
    ("lucy_in_leeds", "Another summit, another communique. I remain sceptical."),
    (
        "Tomasz W.",
        "Living close to the border, I can say people here are relieved, whatever the politicians say.",
    ),
    (
        "Ana P.",
        "Thanks for the balanced report, it makes a change from the shouting on social media.",
    ),
    ("K. Mwangi", "The regional bodies deserve more credit than they get for this kind of work."),
    ("GrumpyReader", "Paywall next week, no doubt. Enjoy it while it lasts."),
    (
        "Rebecca L.",
        "Would be useful to hear from the people actually affected, not just officials.",
    ),
    ("J. Park", "Markets barely reacted, which tells you how much was already expected."),
    ("Farid", "History suggests caution. We have seen similar promises before."),
    ("wanderer88", "Fair summary. The map in the print edition was helpful too."),
    ("Elena V.", "Let's hope the follow-up meetings actually happen this time."),
]
COMMENT_AGES = [
    "12 minutes ago",
    "38 minutes ago",
    "1 hour ago",
    "2 hours ago",
    "3 hours ago",
    "5 hours ago",
    "7 hours ago",
    "9 hours ago",
]


def comments_for(a: Article) -> list[tuple[str, str, str, int]]:
    n = 2 + pick(a.slug + "#n", 3)  # 2..4
    start = pick(a.slug + "#c", len(COMMENT_POOL))
    out = []
    for i in range(n):
        name, text = COMMENT_POOL[(start + 5 * i) % len(COMMENT_POOL)]
        age = COMMENT_AGES[(pick(a.slug + name, 3) + 2 * i) % len(COMMENT_AGES)]
        likes = pick(a.slug + text, 60)
        out.append((name, text, age, likes))
    return out


SPONSORED = [
    (
        "Sponsored",
        "Travel insurance built for frequent flyers. Compare plans from 4 euros a month.",
        "/ads/travel",
    ),
    (
        "Sponsored",
        "Learn a new language in 15 minutes a day. Start your free trial now.",
        "/ads/language",
    ),
    (
        "Paid content",
        "How one family office is rethinking emerging-market bonds in 2025.",
        "/ads/wealth",
    ),
    (
        "Sponsored",
        "The smartwatch that lasts two weeks on a single charge. Order today.",
        "/ads/watch",
    ),
    (
        "Promoted",
        "Retire abroad? Five things nobody tells you about pensions overseas.",
        "/ads/pension",
    ),
    (
        "Sponsored",
        "Business class to Singapore from 1,899. Limited seats this winter.",
        "/ads/flights",
    ),
]


def sponsored_for(a: Article, k: int) -> tuple[str, str, str]:
    return SPONSORED[(pick(a.slug + "#ad", len(SPONSORED)) + k) % len(SPONSORED)]


# --------------------------------------------------------------------------- layout A: The Meridian Post

MERIDIAN_NAV = [
    "World",
    "Africa",
    "Americas",
    "Asia",
    "Europe",
    "Middle East",
    "UK",
    "Politics",
    "Business",
    "Climate",
    "Science",
    "Opinion",
    "Features",
    "Video",
    "Podcasts",
    "Newsletters",
]


def slugify(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def meridian_body(a: Article, pool: list[Article]) -> str:
    out = []
    paras = a.paragraphs
    i = 0
    while i < len(paras):
        p = paras[i]
        m = REC_LIST_RE.match(paras[i + 1]) if i + 1 < len(paras) else None
        if p == REC_HEADING and m:
            n = int(m.group(1))
            items = "".join(
                f'<span class="recommended-list__item"><a href="{BASE}{o.path}">{esc(o.title)}</a></span>'
                for o in others(a, pool, n, 7)
            )
            # Mirrors the source site: a heading plus a visual list of linked headlines whose
            # only screen-reader text is "list of N items" / "end of list".
            out.append(
                '        <div class="container container--recommended">\n'
                f'          <h2 class="recommended-heading">{REC_HEADING}</h2>\n'
                f'          <p class="recommended-list"><span class="screen-reader-text">list of {n} items</span>'
                f'<span class="recommended-list__items" aria-hidden="true">{items}</span>'
                '<span class="screen-reader-text">end of list</span></p>\n'
                "        </div>"
            )
            i += 2
            continue
        out.append(f"        <p>{esc(p)}</p>")
        i += 1
    return "\n".join(out)


def render_meridian(a: Article, pool: list[Article]) -> str:
    d = a.published
    iso = a.published_raw
    human = f"{d.day} {MONTH_FULL[d.month - 1]} {d.year}, {d:%H:%M} GMT"
    nav = "\n".join(
        f'          <li><a href="{BASE}/meridian/{slugify(x)}/">{esc(x)}</a></li>'
        for x in MERIDIAN_NAV
    )
    related = "\n".join(
        f'          <li><a href="{BASE}{o.path}">{esc(o.title)}</a></li>'
        for o in others(a, pool, 3, 1)
    )
    most_read = "\n".join(
        f'          <li><span class="rank">{k}</span><a href="{BASE}{o.path}">{esc(o.title)}</a></li>'
        for k, o in enumerate(others(a, pool, 5, 4), 1)
    )
    comments = "\n".join(
        f'          <li class="comment" id="comment-{pick(a.slug + name, 900000) + 100000}">\n'
        f'            <div class="comment__meta"><span class="comment__author">{esc(name)}</span> '
        f'<span class="comment__age">{age}</span></div>\n'
        f'            <p class="comment__text">{esc(text)}</p>\n'
        f'            <div class="comment__actions"><button>Reply</button> <button>Recommend ({likes})</button></div>\n'
        f"          </li>"
        for name, text, age, likes in comments_for(a)
    )
    ncom = len(comments_for(a))
    ad1 = sponsored_for(a, 0)
    ad2 = sponsored_for(a, 1)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{esc(a.title)} | The Meridian Post</title>
  <meta name="description" content="{attr(a.summary)}">
  <meta name="author" content="{attr(a.author)}">
  <link rel="canonical" href="{a.url}">
  <meta property="og:type" content="article">
  <meta property="og:site_name" content="The Meridian Post">
  <meta property="og:title" content="{attr(a.title)}">
  <meta property="og:description" content="{attr(a.summary)}">
  <meta property="og:url" content="{a.url}">
  <meta property="og:image" content="{BASE}/static/meridian-share.png">
  <meta property="article:published_time" content="{iso}">
  <meta property="article:modified_time" content="{iso}">
  <meta property="article:section" content="World">
  <meta property="article:author" content="{attr(a.author)}">
  <meta name="twitter:card" content="summary_large_image">
  <link rel="alternate" type="application/rss+xml" title="The Meridian Post - World" href="{BASE}/feeds/world.rss">
  <link rel="stylesheet" href="{BASE}/static/meridian.css">
</head>
<body class="page page--article">
  <div id="cookie-consent" class="cookie-banner" role="dialog" aria-label="Cookie consent">
    <p class="cookie-banner__text">We use cookies to give you the best experience on our website, to personalise content and ads, to provide social media features and to analyse our traffic. We also share information about your use of our site with our social media, advertising and analytics partners.</p>
    <div class="cookie-banner__buttons"><button class="btn btn--primary">Accept all</button> <button class="btn btn--secondary">Manage preferences</button></div>
  </div>
  <header class="site-header">
    <div class="site-header__top">
      <a class="site-header__logo" href="{BASE}/meridian/">The Meridian Post</a>
      <a class="site-header__subscribe" href="{BASE}/meridian/subscribe/">Subscribe</a>
      <a class="site-header__login" href="{BASE}/meridian/account/">Sign in</a>
    </div>
    <nav class="site-nav" aria-label="Main menu">
      <ul class="site-nav__list">
{nav}
      </ul>
    </nav>
  </header>
  <div class="ad-slot ad-slot--leaderboard" data-slot="top">
    <span class="ad-slot__label">Advertisement</span>
    <a class="ad-slot__creative" href="{BASE}{ad1[2]}" rel="sponsored">{esc(ad1[0])}: {esc(ad1[1])}</a>
  </div>
  <main id="main-content" class="layout">
    <article class="article">
      <header class="article__header">
        <a class="article__section" href="{BASE}/meridian/world/">World</a>
        <h1 class="article__headline">{esc(a.title)}</h1>
        <p class="article__standfirst">{esc(a.summary)}</p>
        <div class="article__byline">
          <span class="article__author">By <a rel="author" href="{BASE}/meridian/authors/{slugify(a.author)}/">{esc(a.author)}</a></span>
          <span class="article__published">Published <time datetime="{iso}">{human}</time></span>
        </div>
      </header>
      <div class="article__body">
{meridian_body(a, pool)}
      </div>
    </article>
    <aside class="related-stories" aria-label="Related stories">
      <h2>Related stories</h2>
      <ul>
{related}
      </ul>
    </aside>
    <section class="newsletter-signup">
      <h2>The Briefing</h2>
      <p>Sign up for The Briefing: the day's most important world stories, delivered to your inbox every morning.</p>
      <form action="{BASE}/meridian/newsletters/subscribe" method="post">
        <label for="nl-email">Email address</label> <input id="nl-email" type="email" name="email" placeholder="you@example.com">
        <button type="submit">Sign up</button>
      </form>
      <p class="newsletter-signup__legal">By signing up you agree to our Terms of Use and Privacy Policy. You can unsubscribe at any time.</p>
    </section>
    <section id="comments" class="comments" aria-label="Comments">
      <h2 class="comments-title">Comments ({ncom})</h2>
      <p class="comments__rules">Comments are moderated. Please read our community guidelines before posting.</p>
      <ol class="comment-list">
{comments}
      </ol>
    </section>
    <aside class="sidebar">
      <div class="ad-slot ad-slot--mpu" data-slot="side">
        <span class="ad-slot__label">Advertisement</span>
        <a class="ad-slot__creative" href="{BASE}{ad2[2]}" rel="sponsored">{esc(ad2[0])}: {esc(ad2[1])}</a>
      </div>
      <section class="most-read">
        <h2>Most read</h2>
        <ol>
{most_read}
        </ol>
      </section>
    </aside>
  </main>
  <footer class="site-footer">
    <nav class="site-footer__links" aria-label="Footer">
      <a href="{BASE}/meridian/about/">About us</a> | <a href="{BASE}/meridian/contact/">Contact</a> | <a href="{BASE}/meridian/careers/">Work for us</a> | <a href="{BASE}/meridian/advertise/">Advertise with us</a> | <a href="{BASE}/meridian/terms/">Terms of use</a> | <a href="{BASE}/meridian/privacy/">Privacy policy</a> | <a href="{BASE}/meridian/cookies/">Cookie settings</a> | <a href="{BASE}/feeds/world.rss">RSS</a>
    </nav>
    <p class="site-footer__copyright">&copy; 2025 The Meridian Post Ltd. All rights reserved. The Meridian Post is not responsible for the content of external sites.</p>
  </footer>
</body>
</html>
"""


# --------------------------------------------------------------------------- layout B: Asia Pacific Ledger

LEDGER_NAV = [
    "Home",
    "China",
    "Japan",
    "Korea",
    "Southeast Asia",
    "South Asia",
    "Australia",
    "Pacific",
    "Markets",
    "Tech",
    "Opinion",
    "Long Reads",
    "Photos",
    "Events",
]


def ledger_body(a: Article) -> str:
    """Div soup: paragraphs alternate between <div class="para"> and <p> in nested wrappers,
    with inline ad units between them."""
    chunks = []
    paras = a.paragraphs
    ad_after = {2, 5} if len(paras) > 6 else {2}
    group: list[str] = []
    style_div = True

    def flush():
        nonlocal group, style_div
        if group:
            if style_div:
                inner = "\n".join(
                    f'              <div class="para"><p>{esc(p)}</p></div>' for p in group
                )
                chunks.append(
                    f'          <div class="text-block">\n            <div class="text-block__inner">\n{inner}\n            </div>\n          </div>'
                )
            else:
                inner = "\n".join(f"              <p>{esc(p)}</p>" for p in group)
                chunks.append(
                    f'          <div class="text-block text-block--alt">\n            <div class="copy">\n{inner}\n            </div>\n          </div>'
                )
            style_div = not style_div
            group = []

    for i, p in enumerate(paras, 1):
        group.append(p)
        if i in ad_after and i < len(paras):
            flush()
            label, text, href = sponsored_for(a, i)
            chunks.append(
                '          <div class="ad-unit ad-unit--inline" data-ad-slot="inarticle">\n'
                '            <div class="ad-unit__label">Advertisement</div>\n'
                f'            <div class="ad-unit__body"><a href="{BASE}{href}" rel="sponsored nofollow">{esc(label)} &middot; {esc(text)}</a></div>\n'
                "          </div>"
            )
    flush()
    return "\n".join(chunks)


def render_ledger(a: Article, pool: list[Article]) -> str:
    d = a.published
    stamp = f"{DAY_ABBR[d.weekday()]} {d.day:02d} {MONTH_ABBR[d.month - 1]} {d.year} {d:%H.%M} GMT"
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": a.url},
        "headline": a.title,
        "description": a.summary,
        "datePublished": a.published_raw,
        "dateModified": a.published_raw,
        "author": {"@type": "Person", "name": a.author},
        "publisher": {
            "@type": "Organization",
            "name": "Asia Pacific Ledger",
            "logo": {"@type": "ImageObject", "url": BASE + "/static/ledger-logo.png"},
        },
        "image": [BASE + "/static/ledger-share.png"],
        "articleSection": "Asia",
        "inLanguage": "en",
    }
    ld_json = json.dumps(ld, ensure_ascii=False, indent=2).replace("</", "<\\/")
    nav = "\n".join(
        f'        <div class="menu-item"><a href="{BASE}/ledger/{slugify(x)}/">{esc(x)}</a></div>'
        for x in LEDGER_NAV
    )
    trending = "\n".join(
        f'            <div class="trend-item"><span class="trend-num">{k:02d}</span> <a href="{BASE}{o.path}">{esc(o.title)}</a></div>'
        for k, o in enumerate(others(a, pool, 5, 3), 1)
    )
    more = "\n".join(
        f'          <div class="card"><a class="card-link" href="{BASE}{o.path}"><div class="card-title">{esc(o.title)}</div></a></div>'
        for o in others(a, pool, 4, 9)
    )
    comments = "\n".join(
        f'            <div class="comment-item">\n'
        f'              <div class="comment-head"><b>{esc(name)}</b> &middot; {age}</div>\n'
        f'              <div class="comment-body">{esc(text)}</div>\n'
        f'              <div class="comment-foot">{likes} likes &middot; Reply &middot; Report</div>\n'
        f"            </div>"
        for name, text, age, likes in comments_for(a)
    )
    side_ad = sponsored_for(a, 3)
    return f"""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{esc(a.title)} - Asia Pacific Ledger</title>
<meta name="description" content="{attr(a.summary)}">
<link rel="canonical" href="{a.url}">
<meta name="twitter:card" content="summary">
<meta name="twitter:site" content="@APLedger">
<meta name="twitter:title" content="{attr(a.title)}">
<meta name="twitter:description" content="{attr(a.summary)}">
<link rel="alternate" type="application/atom+xml" title="Asia Pacific Ledger" href="{BASE}/feeds/asia.atom">
<link rel="stylesheet" href="{BASE}/static/ledger.css">
<script type="application/ld+json">
{ld_json}
</script>
<script>window.dataLayer = window.dataLayer || []; window.dataLayer.push({{"pageType": "article", "section": "asia"}});</script>
</head>
<body>
<div id="wrapper">
  <div class="gdpr-consent" id="gdpr-consent">
    <div class="gdpr-consent__box">
      <div class="gdpr-consent__title">Your privacy</div>
      <div class="gdpr-consent__text">We use cookies to improve your experience, measure audiences and show you relevant advertising. By clicking "Accept all" you agree to the storing of cookies on your device. You can change your choices at any time in Manage preferences.</div>
      <div class="gdpr-consent__actions"><a class="gdpr-btn" href="#accept">Accept all</a> <a class="gdpr-btn gdpr-btn--ghost" href="#prefs">Manage preferences</a></div>
    </div>
  </div>
  <div class="top-bar">
    <div class="top-bar__brand"><a href="{BASE}/ledger/">Asia Pacific Ledger</a></div>
    <div class="top-bar__date">Your trusted source on the region since 1998</div>
    <div class="nav-wrap">
{nav}
    </div>
    <div class="top-bar__tools"><a href="{BASE}/ledger/search/">Search</a> <a href="{BASE}/ledger/subscribe/">Subscribe</a> <a href="{BASE}/ledger/login/">Log in</a></div>
  </div>
  <div class="page-grid">
    <div class="col-main">
      <div class="story-head">
        <div class="crumbs"><a href="{BASE}/ledger/">Home</a> / <a href="{BASE}/ledger/asia/">Asia</a> / <a href="{BASE}/ledger/diplomacy/">Diplomacy</a></div>
        <div class="headline-wrap"><h1 class="story-title">{esc(a.title)}</h1></div>
        <div class="meta-row">
          <div class="writer">{esc(a.author)}</div>
          <div class="stamp">{stamp}</div>
        </div>
      </div>
      <div class="story-wrap">
        <div class="story-body">
{ledger_body(a)}
        </div>
      </div>
      <div class="share-tools">Share this story: <a href="#share-fb">Facebook</a> <a href="#share-x">X</a> <a href="#share-li">LinkedIn</a> <a href="#share-mail">Email</a></div>
      <div class="more-stories">
        <div class="block-title">More from Asia Pacific Ledger</div>
        <div class="card-row">
{more}
        </div>
      </div>
      <div class="comments-wrap" id="comments">
        <div class="block-title">Reader comments</div>
        <div class="comments-note">Join the conversation. Log in or register to comment.</div>
        <div class="comment-stream">
{comments}
        </div>
      </div>
    </div>
    <div class="col-side">
      <div class="widget widget-trending">
        <div class="widget-title">Most read</div>
        <div class="widget-body">
{trending}
        </div>
      </div>
      <div class="widget widget-newsletter">
        <div class="widget-title">Ledger Morning Brief</div>
        <div class="widget-body">Get the Asia Pacific Ledger Morning Brief, the five stories you need to know before markets open, free in your inbox every weekday. <a class="btn-signup" href="{BASE}/ledger/newsletters/">Sign up now</a></div>
      </div>
      <div class="widget ad-unit ad-unit--side">
        <div class="ad-unit__label">Advertisement</div>
        <div class="ad-unit__body"><a href="{BASE}{side_ad[2]}" rel="sponsored nofollow">{esc(side_ad[0])} &middot; {esc(side_ad[1])}</a></div>
      </div>
    </div>
  </div>
  <div class="bottom">
    <div class="bottom-links"><a href="{BASE}/ledger/about/">About</a> <a href="{BASE}/ledger/ethics/">Editorial standards</a> <a href="{BASE}/ledger/contact/">Contact us</a> <a href="{BASE}/ledger/advertise/">Advertise</a> <a href="{BASE}/ledger/privacy/">Privacy</a> <a href="{BASE}/ledger/cookies/">Cookies</a> <a href="{BASE}/feeds/asia.atom">Atom feed</a></div>
    <div class="bottom-copy">Copyright &copy; 2025 Asia Pacific Ledger Pte. Ltd. All rights reserved. Reproduction in whole or in part without permission is prohibited.</div>
  </div>
</div>
</body>
</html>
"""


# --------------------------------------------------------------------------- layout C: Diplomatic Wire

WIRE_NAV = [
    "Latest",
    "Diplomacy",
    "Conflict",
    "Trade",
    "Sanctions",
    "United Nations",
    "Elections",
    "Africa",
    "Americas",
    "Asia-Pacific",
    "Europe",
    "Middle East",
    "Data",
    "Wire services",
]


def wire_first_para(p: str) -> str:
    m = DATELINE_RE.match(p)
    assert m
    return f'<span class="dateline">{esc(m.group(1))}</span> {esc(p[m.end() :])}'


def render_wire(a: Article, pool: list[Article]) -> str:
    d = a.published
    head_date = ""
    filed = ""
    if a.date_in_html:
        # Only these pages carry any date signal. Pages with date_in_html=false have no date
        # metadata, no <time>, no canonical link and no date-bearing hrefs at all (the article
        # URLs contain /YYYY/MM/DD/), so a consumer must fall back to the feed's dc:date.
        head_date = (
            f'\n  <link rel="canonical" href="{a.url}">'
            f'\n  <meta name="date" content="{a.published_raw}">'
        )
        hour12 = d.hour % 12 or 12
        ampm = "AM" if d.hour < 12 else "PM"
        filed = (
            f'\n        <p class="filed">Filed <time itemprop="datePublished" datetime="{a.published_raw}">'
            f"{MONTH_FULL[d.month - 1]} {d.day}, {d.year} {hour12}:{d:%M} {ampm} UTC</time></p>"
        )
    nav = "\n".join(
        f'        <li><a href="{BASE}/wire/{slugify(x)}/">{esc(x)}</a></li>' for x in WIRE_NAV
    )
    body = [f"        <p>{wire_first_para(a.paragraphs[0])}</p>"]
    body += [f"        <p>{esc(p)}</p>" for p in a.paragraphs[1:]]
    body_html = "\n".join(body)
    # "Most read" goes through the wire's click-tracking redirect (date-free URLs, not served).
    top = "\n".join(
        f'          <li><a href="{BASE}/wire/go?story={o.slug}&amp;module=most-read&amp;pos={k}">{esc(o.title)}</a></li>'
        for k, o in enumerate(others(a, pool, 5, 2), 1)
    )
    comments = "\n".join(
        f'        <div class="reader-comment">\n'
        f'          <p class="reader-comment__who">{esc(name)} wrote ({age}):</p>\n'
        f'          <p class="reader-comment__what">{esc(text)}</p>\n'
        f"        </div>"
        for name, text, age, likes in comments_for(a)
    )
    ad = sponsored_for(a, 2)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{esc(a.title)} | Diplomatic Wire</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="description" content="{attr(a.summary)}">{head_date}
  <link rel="alternate" type="application/rss+xml" title="Diplomatic Wire" href="{BASE}/feeds/diplomacy.rdf">
  <link rel="stylesheet" href="{BASE}/static/wire.css">
</head>
<body class="wire">
  <section class="consent-notice" id="consent-notice" aria-label="Cookie notice">
    <p>We use cookies to keep this site secure, remember your settings and measure how the service is used. Some are set by our advertising partners. Accept all to allow every category, or choose Manage preferences.</p>
    <p><button>Accept all</button> <button>Manage preferences</button></p>
  </section>
  <header class="masthead">
    <a class="brand" href="{BASE}/wire/">DIPLOMATIC WIRE</a>
    <nav class="primary-nav">
      <ul>
{nav}
      </ul>
    </nav>
  </header>
  <main class="wire-main">
    <div class="wire-story" itemscope itemtype="https://schema.org/NewsArticle">
      <header class="wire-header">
        <h1 class="wire-headline" itemprop="headline">{esc(a.title)}</h1>
        <p class="wire-byline">By <span class="author" itemprop="author">{esc(a.author)}</span></p>{filed}
      </header>
      <div class="wire-copy" itemprop="articleBody">
{body_html}
      </div>
      <div class="wire-tools">
        <a href="#print">Print</a> <a href="#share">Share</a> <a href="{BASE}/wire/licensing/">Purchase licensing rights</a>
      </div>
    </div>
    <div class="promo-box" data-type="sponsored">
      <strong>Advertisement</strong>
      <a href="{BASE}{ad[2]}" rel="sponsored">{esc(ad[0])}: {esc(ad[1])}</a>
    </div>
    <div class="top-wire">
      <h2>Most read on Diplomatic Wire</h2>
      <ul>
{top}
      </ul>
    </div>
    <div class="signup-panel newsletter">
      <h2>Diplomatic Wire Daily</h2>
      <p>Our editors' pick of the day's diplomacy, conflict and trade news. Sign up to receive it by email every weekday evening.</p>
      <p><input type="email" placeholder="Email address"> <button>Subscribe</button></p>
    </div>
    <div class="comments" id="comments">
      <h2>Discussion</h2>
{comments}
    </div>
  </main>
  <footer class="wire-footer">
    <p><a href="{BASE}/wire/about/">About Diplomatic Wire</a> &middot; <a href="{BASE}/wire/trust/">Trust principles</a> &middot; <a href="{BASE}/wire/contact/">Contact</a> &middot; <a href="{BASE}/wire/terms/">Terms of use</a> &middot; <a href="{BASE}/wire/privacy/">Privacy</a> &middot; <a href="{BASE}/wire/cookies/">Cookie settings</a> &middot; <a href="{BASE}/feeds/diplomacy.rdf">RSS</a></p>
    <p>&copy; Diplomatic Wire. All rights reserved. Quotes and market data may be delayed.</p>
  </footer>
</body>
</html>
"""


def render_consent_wall(a: Article) -> str:
    """A page whose body is nothing but a cookie wall (no article text at all)."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Diplomatic Wire</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <link rel="stylesheet" href="{BASE}/static/wire.css">
</head>
<body class="consent-wall">
  <main class="consent-wall__main">
    <div class="consent-wall__box">
      <h1>Before you continue</h1>
      <p>Before you continue, please accept our cookies. We and our partners use them to store information on your device, measure audiences and show personalised ads and content.</p>
      <p>Select Reject to allow only strictly necessary cookies.</p>
      <form method="post" action="{BASE}/wire/consent">
        <input type="hidden" name="return" value="{a.path}">
        <button type="submit" name="choice" value="accept">Accept</button>
        <button type="submit" name="choice" value="reject">Reject</button>
      </form>
      <p><a href="{BASE}/wire/privacy/">Privacy policy</a> &middot; <a href="{BASE}/wire/cookies/">Cookie policy</a> &middot; <a href="{BASE}/wire/partners/">Our partners</a></p>
    </div>
  </main>
</body>
</html>
"""


# --------------------------------------------------------------------------- feeds


def x(text: str) -> str:
    return xml_escape(text)


def render_rss20(items: list[Article]) -> str:
    items = newest_first(items)
    last = max(a.published for a in items)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">',
        "  <channel>",
        "    <title>The Meridian Post - World</title>",
        f"    <link>{BASE}/meridian/</link>",
        f'    <atom:link href="{BASE}/feeds/world.rss" rel="self" type="application/rss+xml"/>',
        "    <description>World news, analysis and comment from The Meridian Post.</description>",
        "    <language>en-gb</language>",
        "    <copyright>Copyright 2025 The Meridian Post Ltd</copyright>",
        f"    <lastBuildDate>{format_datetime(last, usegmt=True)}</lastBuildDate>",
        "    <ttl>15</ttl>",
    ]
    for a in items:
        out.append("    <item>")
        out.append(f"      <title>{x(a.title)}</title>")
        if a.kind == "nolink":
            # Deliberately nothing but a title and a description: no link, guid or date.
            out.append(f"      <description>{x(a.summary)}</description>")
            out.append("    </item>")
            continue
        out.append(f"      <link>{a.url}</link>")
        out.append(f"      <description>{x(a.summary)}</description>")
        out.append(f"      <dc:creator>{x(a.author)}</dc:creator>")
        out.append("      <category>World</category>")
        out.append(f"      <pubDate>{format_datetime(a.published, usegmt=True)}</pubDate>")
        out.append(f'      <guid isPermaLink="true">{a.url}</guid>')
        out.append("    </item>")
    out += ["  </channel>", "</rss>", ""]
    return "\n".join(out)


def render_atom(items: list[Article]) -> str:
    items = newest_first(items)
    last = max(a.published for a in items)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
        "  <title>Asia Pacific Ledger</title>",
        "  <subtitle>Politics, diplomacy and business across Asia and the Pacific.</subtitle>",
        "  <id>tag:asiapacificledger.example,2025:feeds/asia</id>",
        f'  <link rel="self" type="application/atom+xml" href="{BASE}/feeds/asia.atom"/>',
        f'  <link rel="alternate" type="text/html" href="{BASE}/ledger/"/>',
        f"  <updated>{last:%Y-%m-%dT%H:%M:%SZ}</updated>",
        "  <rights>Copyright 2025 Asia Pacific Ledger Pte. Ltd.</rights>",
        "  <generator>ledger-cms</generator>",
    ]
    for a in items:
        ts = f"{a.published:%Y-%m-%dT%H:%M:%SZ}"
        out += [
            "  <entry>",
            f'    <title type="text">{x(a.title)}</title>',
            # Relative href on purpose: consumers must resolve it against the feed URL.
            f'    <link rel="alternate" type="text/html" href="{a.path}"/>',
            f"    <id>tag:asiapacificledger.example,{a.published:%Y-%m-%d}:{a.slug}</id>",
            f"    <published>{ts}</published>",
            f"    <updated>{ts}</updated>",
            f"    <author><name>{x(a.author)}</name></author>",
            f'    <summary type="text">{x(a.summary)}</summary>',
            "  </entry>",
        ]
    out += ["</feed>", ""]
    return "\n".join(out)


def render_rdf(items: list[Article]) -> str:
    items = newest_first(items)
    last = max(a.published for a in items)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"',
        '         xmlns="http://purl.org/rss/1.0/"',
        '         xmlns:dc="http://purl.org/dc/elements/1.1/">',
        f'  <channel rdf:about="{BASE}/feeds/diplomacy.rdf">',
        "    <title>Diplomatic Wire</title>",
        f"    <link>{BASE}/wire/</link>",
        "    <description>Diplomacy, conflict and trade news from Diplomatic Wire.</description>",
        "    <dc:language>en</dc:language>",
        "    <dc:publisher>Diplomatic Wire</dc:publisher>",
        f"    <dc:date>{last:%Y-%m-%dT%H:%M:%SZ}</dc:date>",
        "    <items>",
        "      <rdf:Seq>",
    ]
    out += [f'        <rdf:li rdf:resource="{a.url}"/>' for a in items]
    out += ["      </rdf:Seq>", "    </items>", "  </channel>"]
    for a in items:
        out += [
            f'  <item rdf:about="{a.url}">',
            f"    <title>{x(a.title)}</title>",
            f"    <link>{a.url}</link>",
            f"    <description>{x(a.summary)}</description>",
            f"    <dc:creator>{x(a.author)}</dc:creator>",
            f"    <dc:date>{a.published:%Y-%m-%dT%H:%M:%SZ}</dc:date>",
            "  </item>",
        ]
    out += ["</rdf:RDF>", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- static assets

CSS = {
    "meridian": "body{font-family:Georgia,serif;margin:0;color:#121212}.site-nav__list{display:flex;flex-wrap:wrap;list-style:none;gap:1em}"
    ".cookie-banner{position:fixed;bottom:0;background:#222;color:#fff;padding:1em}.article{max-width:40em;margin:auto}"
    ".ad-slot{background:#f4f4f4;text-align:center;font-size:.8em}.container--recommended{border-top:2px solid #c00;font-family:sans-serif}"
    ".screen-reader-text{position:absolute;left:-9999px}\n",
    "ledger": "body{font-family:Helvetica,Arial,sans-serif;margin:0}.nav-wrap{display:flex;gap:.8em}.page-grid{display:grid;grid-template-columns:2fr 1fr;gap:2em}"
    ".para,.copy p{margin:0 0 1em;line-height:1.6}.ad-unit{border:1px dashed #aaa;padding:.5em;font-size:.8em}"
    ".gdpr-consent{position:fixed;inset:auto 0 0 0;background:#fff;box-shadow:0 -2px 8px #0003}\n",
    "wire": "body{font-family:Arial,sans-serif;margin:0 auto;max-width:60em}.primary-nav ul{display:flex;flex-wrap:wrap;list-style:none;gap:1em}"
    ".dateline{font-weight:bold}.consent-notice{background:#ffe;padding:1em}.consent-wall__box{max-width:32em;margin:4em auto}\n",
}


ROBOTS = """# The demo site welcomes crawlers, but not in its drafts folder.
User-agent: *
Disallow: /drafts/
"""


# --------------------------------------------------------------------------- main


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def main() -> int:
    arts = load()
    by_outlet = {o: [a for a in arts if a.outlet == o] for o in OUTLETS}
    normal = {
        o: sorted(
            [a for a in by_outlet[o] if a.kind == "article"], key=lambda a: (a.published, a.slug)
        )
        for o in OUTLETS
    }

    if SITE.exists():
        shutil.rmtree(SITE)
    GOLD.mkdir(parents=True, exist_ok=True)
    for old in GOLD.glob("*.txt"):
        old.unlink()

    renderers = {"meridian": render_meridian, "ledger": render_ledger, "wire": render_wire}
    pages = 0
    for a in arts:
        if a.kind == "article":
            write(SITE / a.path.lstrip("/"), renderers[a.outlet](a, normal[a.outlet]))
            write(GOLD / f"{a.outlet}-{a.slug}.txt", "\n".join(a.paragraphs) + "\n")
            pages += 1
        elif a.kind == "consent_wall":
            write(SITE / a.path.lstrip("/"), render_consent_wall(a))
            pages += 1

    write(SITE / "feeds" / "world.rss", render_rss20(by_outlet["meridian"]))
    write(SITE / "feeds" / "asia.atom", render_atom(by_outlet["ledger"]))
    write(SITE / "feeds" / "diplomacy.rdf", render_rdf(by_outlet["wire"]))
    for name, css in CSS.items():
        write(SITE / "static" / f"{name}.css", css)
    write(SITE / "robots.txt", ROBOTS)

    counts = {o: sum(1 for a in by_outlet[o] if a.kind == "article") for o in OUTLETS}
    print(
        f"built {pages} pages ({sum(counts.values())} articles: "
        + ", ".join(f"{o} {n}" for o, n in counts.items())
        + f"), 3 feeds, {sum(counts.values())} gold files"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
