"""Writes the labelled sets in tests/nlp/data/ (deterministic: run it and diff nothing).

    python tests/nlp/make_data.py

- ``customers.csv``: a registry with the hard cases on purpose — names that are ordinary
  words or places (Apple, Target, Jordan, Shell, Orange, Amazon), a person and a company
  sharing a name (Jordan Lee / Jordan Lee Consulting), two people with one name (Alex Kim).
- ``linking.jsonl``: posts labelled with every customer they are confidently by or about.
- ``sentiment.jsonl``: social posts and product-feedback sentences labelled with sentiment
  (label and a gold score) and intent, written for this project.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

DATA = Path(__file__).with_name("data")
HEADER = ["id", "name", "kind", "company", "segment", "annual_revenue", "emails", "domains",
          "aliases", "reddit", "x", "mastodon", "bluesky", "hackernews"]

# id, name, kind, company, emails, domains, aliases, {platform: handle}
CUSTOMERS = [
    ("c_acme", "Acme Anvils", "company", "", "", "acmeanvils.example", "", {"x": "acmeanvils", "reddit": "acme_hq"}),
    ("c_zentrix", "Zentrix Labs", "company", "", "hello@zentrix.example", "zentrix.example", "Zentrix", {"x": "zentrixlabs", "bluesky": "zentrix.bsky.social"}),
    ("c_apple", "Apple Orchard Supplies", "company", "", "", "appleorchard.example", "Apple", {"x": "appleorchardsup"}),
    ("c_target", "Target Logistics", "company", "", "", "targetlogistics.example", "Target", {"mastodon": "target@mastodon.example", "x": "targetlogi"}),
    ("c_shell", "Shell Harbour Energy", "company", "", "", "shellharbour.example", "Shell", {"x": "shellharbour"}),
    ("c_orange", "Orange Telecom Partners", "company", "", "", "orangetp.example", "Orange", {"x": "orangetp"}),
    ("c_amazon", "Amazon Outfitters", "company", "", "", "amazonoutfitters.example", "Amazon", {"reddit": "amazon_outfitters"}),
    ("c_jlc", "Jordan Lee Consulting", "company", "", "", "jlconsulting.example", "JLC", {"x": "jlconsulting"}),
    ("c_jl", "Jordan Lee", "person", "", "jordan@jordanlee.example", "", "", {"x": "jordanlee_", "reddit": "jlee"}),
    ("c_jordan", "Jordan Foods", "company", "", "", "jordanfoods.example", "Jordan", {"x": "jordanfoods"}),
    ("c_kim1", "Alex Kim", "person", "Zentrix Labs", "alex.kim@zentrix.example", "", "", {"x": "alexkim_z"}),
    ("c_kim2", "Alex Kim", "person", "", "alexk@postbox.example", "", "", {"reddit": "alexkim88"}),
    ("c_priya", "Priya Raman", "person", "Acme Anvils", "priya@acmeanvils.example", "", "", {"x": "priyaraman", "mastodon": "priya@fosstodon.example"}),
    ("c_quill", "Quillfeather Studio", "company", "", "", "quillfeather.example", "Quillfeather", {"x": "quillfeatherhq", "bluesky": "quillfeather.bsky.social"}),
    ("c_moss", "Mosswick Bakery", "company", "", "orders@mosswick.example", "mosswick.example", "", {"x": "mosswickbakes"}),
    ("c_tom", "Tomasz Nowak", "person", "Mosswick Bakery", "tomasz@mosswick.example", "", "", {"reddit": "tnowak", "hackernews": "tnowak"}),
    ("c_larks", "Larkspur Media", "company", "", "", "larkspurmedia.example", "Larkspur", {"x": "larkspurmedia"}),
    ("c_fern", "Fernvale Consulting", "company", "", "", "fernvale.example", "Fernvale", {"bluesky": "fernvale.bsky.social"}),
    ("c_ines", "Inès Duarte", "person", "", "ines@duarte.example", "", "", {"mastodon": "ines@mastodon.example"}),
    ("c_osk", "Oskar Lindqvist", "person", "Larkspur Media", "oskar@larkspurmedia.example", "", "", {"x": "oskarl", "hackernews": "oskarl"}),
]
NONE_AUTHORS = ["randomdev", "sam_writes", "coffee_bean", "night_owl42", "pixelpusher", "mkt_guru"]
PLATFORMS = ["x", "reddit", "mastodon", "bluesky", "hackernews"]
COMPLAINTS = ["the invoice export is broken again", "support has not answered in three days",
              "the mobile app keeps logging me out", "dark mode made everything unreadable",
              "sync with our calendar stopped working", "the new pricing page confuses everyone"]
PRAISE = ["the onboarding was painless", "their API docs are excellent", "the redesign looks great",
          "they fixed our issue within an hour", "recurring invoices save us hours"]


def _by_id() -> dict[str, tuple]:
    return {c[0]: c for c in CUSTOMERS}


def write_customers() -> None:
    """The registry as a customers CSV (same columns as ``crmsphere import customers``)."""
    with (DATA / "customers.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for cid, name, kind, company, emails, domains, aliases, handles in CUSTOMERS:
            w.writerow([cid, name, kind, company, "smb", "", emails, domains, aliases,
                        *(handles.get(p, "") for p in HEADER[9:])])


def _employer(cid: str) -> list[str]:
    company = _by_id()[cid][3]
    return [c[0] for c in CUSTOMERS if c[1] == company and c[2] == "company"] if company else []


def linking_cases(rng: random.Random) -> list[dict]:
    """Posts with the customers they are confidently about; the hard cases included."""
    cases: list[dict] = []

    def add(kind: str, text: str, gold: list[str], source: str = "x", author: str | None = None,
            name: str | None = None) -> None:
        cases.append({"id": f"l{len(cases) + 1:04d}", "kind": kind, "text": text, "source": source,
                      "author": {"handle": author or rng.choice(NONE_AUTHORS), "name": name},
                      "customers": sorted(set(gold))})

    for cid, name, kind, _company, emails, domains, aliases, handles in CUSTOMERS:
        for platform, handle in handles.items():
            # The author's own handle on its platform: the customer (and a person's employer).
            for _ in range(2):
                add("author_handle", f"{rng.choice(COMPLAINTS + PRAISE).capitalize()}.",
                    [cid, *_employer(cid)], platform, handle)
            # The same handle on another platform may be someone else: not a confident link.
            other = next(p for p in PLATFORMS if p not in handles)
            add("handle_wrong_platform", f"{rng.choice(COMPLAINTS).capitalize()}, again.", [], other, handle)
            # @mentioning the handle on its platform; the Mastodon form keeps its server.
            add("mentioned_handle", f"Hey @{handle}, {rng.choice(COMPLAINTS)}?", [cid], platform)
            add("mentioned_wrong_platform", f"cc @{handle} {rng.choice(PRAISE)}", [], other)
        # Full names, in any case: a multi-word name is not an ordinary phrase (unless two
        # customers share it: then nobody is sure).
        named = [cid] if sum(c[1] == name for c in CUSTOMERS) == 1 else []
        add("full_name", f"Talked to {name} today and {rng.choice(PRAISE)}.", named)
        add("full_name_lower", f"{name.lower()} says {rng.choice(COMPLAINTS)}", named)
        add("full_name_caps", f"{rng.choice(COMPLAINTS).upper()}!! {name} please fix", named)
        # One typo in a word of a multi-word company name (the other words exact) is a link,
        # a little less sure; in a person's name it only waits for a manager.
        first, _, rest = name.partition(" ")
        typo = f"{first[0]}{first[2:]} {rest}".strip()  # a letter dropped from the first word
        fuzzy = named if kind == "company" and rest and len(first) >= 4 else []
        add("typo_name", f"Anyone used {typo}? {rng.choice(PRAISE)}", fuzzy)
        last = name.split()[-1]
        if rest and len(last) >= 4:
            typo = f"{name[:-1]}"  # the last letter dropped
            add("typo_name", f"Our team moved to {typo} last week and {rng.choice(PRAISE)}.", fuzzy)
            # Not capitalised: not tried, so not linked confidently (unless another
            # customer's whole name is still in it, as "jordan lee" in "jordan lee consultin").
            if not any(c[1].lower() in typo.lower() for c in CUSTOMERS if c[1] != name):
                add("typo_name", f"{typo.lower()} keeps failing, {rng.choice(COMPLAINTS)}", [])
        if emails:
            address = emails.split(";")[0]
            domain_owner = [c[0] for c in CUSTOMERS
                            if c[2] == "company" and address.split("@")[1] in c[5].split(";")]
            add("email", f"Reach me at {address} about the renewal.", [cid, *domain_owner])
        if domains:
            domain = domains.split(";")[0]
            owner = [cid] if kind == "company" else []
            add("mail_domain", f"Write to billing@{domain} if {rng.choice(COMPLAINTS)}", owner)
            add("web_domain", f"See https://www.{domain}/status — {rng.choice(COMPLAINTS)}", owner)
        if aliases and aliases.lower() not in {"apple", "target", "shell", "orange", "amazon", "jordan"}:
            add("alias", f"Switched to {aliases} last month, {rng.choice(PRAISE)}.", [cid])
    # Names that are ordinary words or places.
    ordinary = {
        "c_apple": ["I ate an Apple on the train.", "Apple pie for dinner tonight 🍎",
                    "an apple a day keeps the doctor away", "Apple picking season in Vermont!",
                    "Is Apple juice better than orange juice?"],
        "c_target": ["We hit our target this quarter 🎯", "Target practice at the range.",
                     "the target audience loved it", "Target date for launch is May 3."],
        "c_shell": ["Found a shell on the beach.", "Shell shocked by that finale.",
                    "my bash shell config is a mess", "Shell out $20 for this? no."],
        "c_orange": ["Orange is my favourite colour.", "orange juice and toast",
                     "Orange sky at sunset tonight", "peeling an orange at my desk"],
        "c_amazon": ["The Amazon rainforest is burning.", "kayaking on the amazon river",
                     "Amazon river documentary was great"],
        "c_jordan": ["Michael Jordan was the best.", "Flying to Jordan next week!",
                     "jordan 1s restock tomorrow", "Jordan played a great game last night."],
    }
    for _cid, texts in ordinary.items():
        for text in texts:
            add("ordinary_word", text, [])
    business = {
        "c_apple": ["Apple support never answered my ticket about the invoice.",
                    "Apple Inc. placed another order with us", "Our account rep at Apple was helpful"],
        "c_target": ["Target support lost our shipping order again.", "Target Corp renewal is due",
                     "the Target account manager called about pricing"],
        "c_shell": ["Shell Ltd sent the contract for renewal", "Shell billing team double charged us"],
        "c_orange": ["Orange customer service closed my ticket", "Orange Group renewed the subscription"],
        "c_amazon": ["Amazon support refunded the order", "Amazon Inc signed the contract today"],
        "c_jordan": ["Jordan Inc placed a warehouse order", "Jordan support staff fixed our login"],
    }
    for cid, texts in business.items():
        for text in texts:
            add("ambiguous_with_context", text, [cid])
    # A person and a company with one name; two people with one name.
    add("person_vs_company", "Jordan Lee Consulting sent the invoice late again.", ["c_jlc"])
    add("person_vs_company", "Great call with Jordan Lee Consulting about the API.", ["c_jlc"])
    add("person_vs_company", "Jordan Lee says the mobile app is fixed.", ["c_jl"])
    add("person_vs_company", "Met Jordan Lee at the meetup, lovely person.", ["c_jl"])
    add("shared_name", "Alex Kim recommended the reporting add-on.", [])
    add("shared_name", "Had lunch with Alex Kim yesterday.", [])
    add("shared_name_disambiguated", "Alex Kim here: the export is broken.", ["c_kim1", "c_zentrix"],
        "x", "alexkim_z")
    add("shared_name_disambiguated", "Alex Kim here, loving the new dashboard", ["c_kim2"],
        "reddit", "alexkim88")
    # Posts about nobody we know.
    nobody = ["Nimbus is slow today 😡 #fail https://t.example/x", "does anyone use kanban boards?",
              "Best invoicing tool for freelancers? asking for a friend",
              "Global Widgets Corp raised prices again", "@someone_else thanks for the tip!",
              "write to help@unknown.example for support", "New blog post: why we moved to SQLite",
              "Sunday brunch and a long walk 🌿", "Our team grew to 40 people this year!",
              "the API rate limits are too low"]
    for text in nobody:
        add("no_customer", text, [])
    return cases


# (text, gold score in [-1, 1], intent) — written for this project; {p} is the product.
SENTIMENT = [
    ("the app crashes every time I log in", -0.6, "complaint"),
    ("{p} crashed twice during my demo today", -0.6, "complaint"),
    ("Dashboard takes 30 seconds to load, this is unusable", -0.8, "complaint"),
    ("Sync has been broken since the last update", -0.6, "complaint"),
    ("I was charged twice this month and nobody answers", -0.7, "complaint"),
    ("{p} is down AGAIN", -0.6, "complaint"),
    ("export still doesn't work after the fix", -0.5, "complaint"),
    ("The new UI is confusing and slow", -0.6, "complaint"),
    ("worst update ever, everything is laggy", -0.9, "complaint"),
    ("Support closed my ticket without reading it", -0.5, "complaint"),
    ("notifications arrive hours late, useless", -0.7, "complaint"),
    ("I can't attach files anymore", -0.4, "complaint"),
    ("the login page keeps timing out", -0.5, "complaint"),
    ("Really disappointed with the mobile app", -0.7, "complaint"),
    ("this update broke our whole workflow", -0.7, "complaint"),
    ("Not happy that {p} auto-renewed without a reminder", -0.6, "complaint"),
    ("Seriously considering leaving {p} after this outage", -0.7, "complaint"),
    ("the search is terrible and never finds anything", -0.8, "complaint"),
    ("{p} lost three hours of my work", -0.7, "complaint"),
    ("ugh, the invoice PDFs show the wrong tax rate again", -0.6, "complaint"),
    ("Why does the app freeze whenever I open a project?", -0.6, "complaint"),
    ("I hate the new pricing", -0.8, "complaint"),
    ("password reset email never arrives", -0.4, "complaint"),
    ("It is not good enough for a paid product", -0.5, "complaint"),
    ("The integration keeps duplicating tasks, so annoying", -0.7, "complaint"),
    ("Third outage this week. Unacceptable.", -0.8, "complaint"),
    ("{p} support is a joke", -0.6, "complaint"),
    ("the android app is painfully slow", -0.7, "complaint"),
    ("Your billing system is a mess", -0.6, "complaint"),
    ("I regret moving our team to {p}", -0.7, "complaint"),
    ("data import failed with no error message", -0.6, "complaint"),
    ("The app doesn't work on my phone", -0.5, "complaint"),
    ("can't log in since this morning 😡", -0.7, "complaint"),
    ("everything is broken today 👎", -0.7, "complaint"),
    ("sad that they removed the calendar view 😢", -0.6, "complaint"),
    ("love how the app crashes right when I need it", -0.5, "complaint"),
    ("Great, another outage.", -0.4, "complaint"),
    ("I love {p}, it saves me hours every week", 0.8, "praise"),
    ("the new dark mode is gorgeous", 0.8, "praise"),
    ("{p} support fixed my issue in ten minutes, amazing", 0.9, "praise"),
    ("Onboarding was smooth and painless", 0.6, "praise"),
    ("Best invoicing tool I have used", 0.8, "praise"),
    ("really happy with the latest release", 0.7, "praise"),
    ("The API docs are clear and helpful", 0.6, "praise"),
    ("{p} feels so much faster now", 0.6, "praise"),
    ("Kudos to the team for the quick fix", 0.7, "praise"),
    ("recurring invoices just work, love it", 0.8, "praise"),
    ("Thanks {p}, you made tax season easy", 0.7, "praise"),
    ("The redesign looks clean and modern", 0.6, "praise"),
    ("wow, offline mode is a lifesaver", 0.8, "praise"),
    ("this is exactly what we needed 🎉", 0.7, "praise"),
    ("Search is instant now 🔥", 0.6, "praise"),
    ("Impressed by how reliable the webhooks are", 0.7, "praise"),
    ("The mobile app is really good", 0.6, "praise"),
    ("nice work on the reports page", 0.5, "praise"),
    ("Customer support was friendly and quick", 0.7, "praise"),
    ("Our accountant finally likes our invoices 😄", 0.6, "praise"),
    ("{p} is awesome!!!", 0.9, "praise"),
    ("SSO setup took five minutes, impressed", 0.7, "praise"),
    ("I LOVE the new keyboard shortcuts", 0.8, "praise"),
    ("not bad at all, the export works well now", 0.4, "praise"),
    ("The team was super helpful during the migration", 0.8, "praise"),
    ("glad they finally fixed the sync 👍", 0.6, "praise"),
    ("the app was slow at first but now it's excellent", 0.5, "praise"),
    ("Happy customer for three years ❤️", 0.8, "praise"),
    ("the new reports are fantastic", 0.8, "praise"),
    ("How do I export all invoices to CSV?", 0.0, "question"),
    ("Does {p} support multiple currencies?", 0.0, "question"),
    ("Is there a dark mode on android?", 0.0, "question"),
    ("Where can I find the status page?", 0.0, "question"),
    ("Which plan includes SSO?", 0.0, "question"),
    ("Can I change the billing email on my account?", 0.0, "question"),
    ("anyone integrated {p} with HubSpot?", 0.0, "question"),
    ("What is the API rate limit per minute?", 0.0, "question"),
    ("How do I reset 2FA for a teammate?", 0.0, "question"),
    ("Is the iPad app available in Canada?", 0.0, "question"),
    ("When does the annual plan renew?", 0.0, "question"),
    ("Does the export include custom fields?", 0.0, "question"),
    ("Moving our team of 12 to {p} next week", 0.0, "other"),
    ("{p} release notes for version 4.2 are out", 0.0, "other"),
    ("We use {p} for invoicing and time tracking", 0.0, "other"),
    ("Webinar on reporting starts at 3pm", 0.0, "other"),
    ("Migrating 400 projects this weekend", 0.0, "other"),
    ("The mobile app update is rolling out today", 0.0, "other"),
    ("Reading the API docs for the webhook format", 0.0, "other"),
    ("Switched the billing email to finance@", 0.0, "other"),
    ("Our invoices go out on the first of the month", 0.0, "other"),
    ("Testing the new calendar integration", 0.0, "other"),
    ("Please add dark mode to {p}", 0.2, "idea"),
    ("Would love a compact view for the task list", 0.4, "idea"),
    ("Feature request: scoped API keys per project", 0.0, "idea"),
    ("{p} should add partial payments", 0.0, "idea"),
    ("It would be great to schedule invoices", 0.5, "idea"),
    ("please add passkeys, 2FA by SMS is painful", -0.3, "idea"),
    ("I wish the app had a widget for today's tasks", 0.2, "idea"),
    ("Could you add Excel export?", 0.0, "idea"),
    ("Would love an official Python SDK", 0.4, "idea"),
    ("Any plans for a Linux desktop app?", 0.0, "idea"),
]
OPENERS = {"complaint": ["", "", "ugh, ", "PSA: ", "seriously, "],
           "praise": ["", "", "honestly, ", "wow, ", "ok "],
           "question": ["", "", "quick q: ", "hey all, "],
           "other": ["", "", "fyi: ", "update: "],
           "idea": ["", "", "idea: ", "dear team, "]}
PRODUCTS = ["Nimbus", "nimbus", "the Nimbus app", "Nimbus Cloud"]


def sentiment_cases(rng: random.Random) -> list[dict]:
    """Each written sentence four times, with a product name and an opener varied."""
    cases = []
    for round_ in range(4):
        for text, score, intent in SENTIMENT:
            body = text.replace("{p}", rng.choice(PRODUCTS))
            opener = rng.choice(OPENERS[intent]) if round_ else ""
            body = opener + body if not opener else opener + body[0].lower() + body[1:]
            label = "positive" if score > 0.05 else "negative" if score < -0.05 else "neutral"
            cases.append({"id": f"s{len(cases) + 1:04d}", "text": body, "sentiment": label,
                          "score": score, "intent": intent, "language": "en"})
    return cases


def write_jsonl(name: str, rows: list[dict]) -> None:
    """Write one labelled set."""
    with (DATA / name).open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    """Write every data file."""
    DATA.mkdir(exist_ok=True)
    write_customers()
    write_jsonl("linking.jsonl", linking_cases(random.Random(4)))
    write_jsonl("sentiment.jsonl", sentiment_cases(random.Random(44)))


if __name__ == "__main__":
    main()
