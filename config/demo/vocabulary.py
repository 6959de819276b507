"""Word lists for the demo-data generator (config/demo/generate.py).

Everything here is fictional.  Lists are tuples/dicts only, so that iteration order is
fixed and the generator stays byte-for-byte reproducible.
"""

FIRST_NAMES = (
    "Avery", "Blake", "Camila", "Dana", "Elena", "Farah", "Gabriel", "Hana", "Isaac", "Jonas",
    "Keiko", "Liam", "Maya", "Noah", "Olivia", "Priya", "Quinn", "Rafael", "Sofia", "Tariq",
    "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Amara", "Bruno", "Chloe", "Diego",
    "Esther", "Felix", "Greta", "Hugo", "Ingrid", "Jamal", "Kofi", "Lena", "Mateo", "Nadia",
    "Oscar", "Paula", "Rohan", "Selin", "Tomas", "Valeria", "Wanda", "Yara", "Aiko", "Bianca",
    "William", "Robert", "Elizabeth", "Katherine", "Michael", "Jennifer", "Daniel", "Alexander",
    "Samantha", "Christopher", "Benjamin", "Margaret", "Jonathan", "Rebecca", "Nicholas",
    "Patricia", "Anthony", "Victoria", "Theodore", "Josephine",
)

LAST_NAMES = (
    "Abernathy", "Baptiste", "Castellanos", "Dunmore", "Eriksen", "Fairweather", "Gallo",
    "Haddad", "Ibarra", "Jablonski", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura", "Okafor",
    "Pellegrini", "Quintero", "Rasmussen", "Sandoval", "Takahashi", "Underwood", "Valdivia",
    "Whitcombe", "Xu", "Yilmaz", "Zielinski", "Achterberg", "Brightwater", "Calloway",
    "Delacroix", "Esposito", "Fenwick", "Grünewald", "Holloway", "Iwu", "Jansen", "Kovacs",
    "Lachance", "Marchetti", "Nwosu", "Ostrowski", "Pereira", "Reyes", "Sato", "Thorne",
    "Vasquez", "Wexley", "Yamada", "Zamora", "Oyelaran",
)

# Why: lets the matcher be tested on "Will Moreau" vs "William Moreau".
NICKNAMES = {
    "William": "Will", "Robert": "Bob", "Elizabeth": "Liz", "Katherine": "Kate",
    "Michael": "Mike", "Jennifer": "Jen", "Daniel": "Dan", "Alexander": "Alex",
    "Samantha": "Sam", "Christopher": "Chris", "Benjamin": "Ben", "Margaret": "Maggie",
    "Jonathan": "Jon", "Rebecca": "Becca", "Nicholas": "Nick", "Patricia": "Pat",
    "Anthony": "Tony", "Victoria": "Tori", "Theodore": "Teddy", "Josephine": "Jo",
}

COMPANY_PREFIXES = (
    "Bluefin", "Copperleaf", "Driftwood", "Emberly", "Foxglove", "Granite Peak", "Harborline",
    "Ironbark", "Juniper", "Kestrel", "Lumenfield", "Maplecrest", "Nettlebrook", "Oakhollow",
    "Pinewhistle", "Quillmark", "Redfern", "Saltmarsh", "Tidewell", "Umberfield", "Vantor",
    "Willowmere", "Yellowtail", "Zephyrine", "Brambleton", "Cinderpath", "Dovecote",
    "Elmstead", "Fernvale", "Glimmerhaus", "Hollowpine", "Inkwell", "Jasperline", "Kindlewood",
    "Larkspur", "Moonwake", "Northbeam", "Otterly", "Quartzly", "Riverlight",
)

COMPANY_NOUNS = (
    "Analytics", "Studio", "Labs", "Logistics", "Bakery", "Design Co", "Consulting",
    "Builders", "Media", "Robotics", "Dental", "Brewing", "Supply", "Architects", "Legal",
    "Software", "Health", "Farms", "Events", "Accounting",
)

# (name, aliases, segment).  Why: ordinary words / places / famous-brand lookalikes make
# entity linking hard on purpose; every one of these is an invented business.
AMBIGUOUS_COMPANIES = (
    ("Apple Orchards", ("Apple",), "smb"),
    ("Target Logistics", ("Target", "TL Freight"), "mid-market"),
    ("Orange Grove Foods", ("Orange", "OGF"), "mid-market"),
    ("Amazon Rivers Outfitters", ("Amazon Rivers",), "smb"),
    ("Delta Fabrication", ("Delta", "Delta Fab"), "enterprise"),
    ("Mercury Couriers", ("Mercury",), "mid-market"),
    ("Phoenix Bakeries", ("Phoenix",), "smb"),
    ("Jaguar Print Works", ("Jaguar",), "smb"),
    ("Shell Harbor Marine", ("Shell Harbor",), "smb"),
    ("Paris Lighting", ("Paris",), "startup"),
    ("Oracle Bones Games", ("Oracle Bones",), "startup"),
    ("Slack Tide Surf Co", ("Slack Tide",), "startup"),
    ("Summit Dental Group", ("Summit",), "mid-market"),
    ("Acme Anvils", ("Acme", "ACME"), "enterprise"),
    ("Berlin Bikes", ("Berlin",), "smb"),
    ("Sunday Studio", ("Sunday",), "startup"),
    ("Monday Collective", ("Monday",), "startup"),
    ("Bolt Electric", ("Bolt",), "mid-market"),
)

# (name, company or None, aliases).  Why: duplicate and word-like person names.
AMBIGUOUS_PEOPLE = (
    ("Jordan Shell", "Target Logistics", ("J. Shell",)),
    ("Sam Lee", "Acme Anvils", ("Samantha Lee",)),
    ("Sam Lee", "Orange Grove Foods", ("Samuel Lee",)),
    ("Bill Payne", "Mercury Couriers", ("Billy Payne",)),
    ("Paris Green", None, ()),
    ("Chase Banks", "Delta Fabrication", ()),
    ("Crystal Waters", "Apple Orchards", ()),
    ("Hunter Green", None, ("Hunt",)),
    ("Penny Price", "Summit Dental Group", ()),
    ("Mark Stone", "Amazon Rivers Outfitters", ()),
    ("Chris Taylor", "Bolt Electric", ()),
    ("Christopher Taylor", "Phoenix Bakeries", ("Chris Taylor",)),
    ("Georgia Bell", "Paris Lighting", ()),
    ("Austin Marsh", None, ()),
)

PERSONAL_MAIL_DOMAINS = ("mailbox.example", "postbox.test", "inbox.example.net")
COMPANY_TLDS = ("example", "test", "example.com", "example.io")

MASTODON_INSTANCES = (
    "mastodon.social", "mastodon.social", "fosstodon.org", "hachyderm.io", "mas.to",
    "techhub.social", "mstdn.social",
)
SUBREDDITS = ("nimbusapp", "nimbusapp", "SaaS", "smallbusiness", "freelance", "projectmanagement")

HANDLE_WORDS = (
    "pixel", "coffee", "night", "owl", "dev", "ops", "cloud", "byte", "retro", "lazy", "fox",
    "quiet", "river", "maker", "ink", "tiny", "loud", "spark", "mint", "paper", "orbit",
    "nomad", "tangent", "null", "static", "velvet", "lunar", "cactus", "bagel", "waffle",
)

SEGMENT_REVENUE = {  # (low, high) USD, sampled log-uniformly
    "enterprise": (500_000_000, 12_000_000_000), "mid-market": (50_000_000, 500_000_000),
    "smb": (800_000, 50_000_000), "startup": (50_000, 8_000_000),
}
# Chance that a customer has an account on each platform: (person, company).
HANDLE_ODDS = {"reddit": (0.55, 0.3), "x": (0.6, 0.85), "mastodon": (0.3, 0.35),
               "bluesky": (0.35, 0.45), "hackernews": (0.25, 0.15)}

SOURCES = ("reddit", "x", "mastodon", "bluesky", "hackernews")
SOURCE_WEIGHTS = (30, 30, 15, 12, 13)

MOODS = ("complaint", "praise", "question", "request")
MOOD_WEIGHTS = (40, 20, 22, 18)

# {p} = product reference (varied by the generator), {n} = a number.
TOPICS = {
    "billing": {
        "complaint": ("{p} charged us twice this month and support is not replying.",
                      "Got an invoice for {n} seats when we only have 4.",
                      "The new pricing is a joke, our bill went up {n}%.",
                      "Invoice PDFs are showing the wrong tax rate again.",
                      "Why is the annual plan more expensive than paying monthly?",
                      "Not happy that {p} auto-renewed without any reminder."),
        "praise": ("{p} invoicing saved me hours this month.",
                   "Recurring invoices in {p} just work, love it.",
                   "Finally an invoicing tool my accountant doesn't hate.",
                   "The new pricing page is actually clear, nice job {p}."),
        "question": ("Does {p} support invoices in multiple currencies?",
                     "How do I change the billing email on my {p} account?",
                     "Is there a nonprofit discount for {p}?",
                     "Can you split one invoice across two projects in {p}?"),
        "request": ("Please add partial payments to {p} invoices.",
                    "Would love a way to schedule invoices for the 1st of the month.",
                    "Feature request: let clients pay invoices by bank transfer.",
                    "{p} really needs automatic late-fee reminders."),
    },
    "login": {
        "complaint": ("Can't log in to {p} since this morning, SSO just loops.",
                      "2FA codes from {p} arrive {n} minutes late, useless.",
                      "Got logged out of {p} three times today.",
                      "SAML setup with our IdP isn't working and the docs don't help.",
                      "Password reset email never arrives."),
        "praise": ("SSO setup on {p} took 5 minutes, impressed.",
                   "Glad {p} finally supports hardware keys for 2FA.",
                   "Okta plus {p} login is smooth now."),
        "question": ("Does {p} support SCIM provisioning?",
                     "How do I reset 2FA for a teammate who lost their phone?",
                     "Is Google login available on the {p} starter plan?"),
        "request": ("Please add passkeys to {p}.",
                    "Would love longer session timeouts, logging in every hour is painful.",
                    "Feature request: enforce 2FA for the whole workspace."),
    },
    "mobile": {
        "complaint": ("The {p} iOS app crashes every time I open a project.",
                      "Android app is so slow after the last update.",
                      "Mobile app keeps forgetting my login.",
                      "Can't attach photos to tasks from the {p} app."),
        "praise": ("The new {p} mobile app is really good, sent an invoice from the train.",
                   "Offline mode in the {p} app is a lifesaver.",
                   "The {p} android widget is great."),
        "question": ("Is there a {p} app for iPad?",
                     "Does the mobile app support push notifications for comments?",
                     "Why is the {p} app not available in my country?"),
        "request": ("Please add time tracking to the {p} mobile app.",
                    "Would love a dark theme on android.",
                    "The {p} app needs a home screen widget for today's tasks."),
    },
    "api": {
        "complaint": ("{p} webhooks stopped firing yesterday and nothing on the status page.",
                      "API rate limits are way too low for our sync job.",
                      "The {p} Zapier integration keeps duplicating tasks.",
                      "API returns 500 on every invoice create call."),
        "praise": ("{p} API docs are clean and the webhooks are reliable.",
                   "Built a Slack bot on the {p} API in an afternoon.",
                   "The new {p} QuickBooks sync is great."),
        "question": ("Is there a GraphQL endpoint for {p} or REST only?",
                     "How do I verify {p} webhook signatures?",
                     "Anyone integrated {p} with HubSpot?"),
        "request": ("Please add webhooks for invoice.paid events.",
                    "Would love an official Python SDK for {p}.",
                    "Feature request: API keys scoped per project."),
    },
    "performance": {
        "complaint": ("{p} is down AGAIN.",
                      "{p} takes {n} seconds to load a board, this isn't working for us.",
                      "Is {p} having an outage? Everything is timing out.",
                      "Dashboard is painfully slow since the update.",
                      "Third outage this week, seriously considering leaving {p}."),
        "praise": ("{p} feels way faster since the last release.",
                   "Kudos to the {p} team for the quick outage fix and the honest postmortem.",
                   "Search in {p} is instant now."),
        "question": ("Is it just me or is {p} slow today?",
                     "Anyone else getting 502s from {p}?",
                     "Where is the {p} status page?"),
        "request": ("Please publish uptime numbers for {p}.",
                    "Would love a status page with email alerts.",
                    "{p} needs better performance on big projects with {n}+ tasks."),
    },
    "export": {
        "complaint": ("CSV export in {p} drops all the custom fields.",
                      "Exporting reports to PDF isn't working for me.",
                      "The {p} time report totals don't match the invoices.",
                      "Export has been stuck at 99% for an hour."),
        "praise": ("{p} reports made our quarterly review so easy.",
                   "The new profitability report in {p} is fantastic.",
                   "Exported {n} projects to CSV without a hitch."),
        "question": ("Can I schedule a weekly report email from {p}?",
                     "How do I export all invoices for my accountant?",
                     "Is there a way to export comments too?"),
        "request": ("Please add Excel export to {p}.",
                    "Would love a custom report builder.",
                    "Feature request: sync reports to Google Sheets automatically."),
    },
    "notifications": {
        "complaint": ("{p} sends me {n} emails a day, way too many notifications.",
                      "Not getting any notifications for mentions anymore.",
                      "Push notifications arrive hours late.",
                      "Turned off notifications and {p} still emails me."),
        "praise": ("The new notification digest in {p} is exactly what I needed.",
                   "Love that {p} lets me mute a project.",
                   "Slack notifications from {p} are perfectly tuned."),
        "question": ("How do I turn off email notifications in {p}?",
                     "Can I get notified only when a client pays?",
                     "Why does {p} notify me about my own comments?"),
        "request": ("Please add quiet hours to {p} notifications.",
                    "Would love per-project notification settings.",
                    "Feature request: a daily summary instead of instant emails."),
    },
    "ui": {
        "complaint": ("The new {p} UI is confusing, where did the sidebar go?",
                      "Dark mode in {p} has unreadable grey on grey text.",
                      "Why did {p} move the invoice button AGAIN?",
                      "The font is tiny in the new design."),
        "praise": ("{p} dark mode is gorgeous.",
                   "The redesign is clean, {p} finally looks modern.",
                   "Keyboard shortcuts in {p} are so good."),
        "question": ("Is there a dark mode in {p}?",
                     "How do I get the old layout back?",
                     "Can I change the {p} accent color?"),
        "request": ("Please add dark mode to {p}.",
                    "Would love a compact view for the task list.",
                    "Feature request: custom themes in {p}."),
    },
    "onboarding": {
        "complaint": ("{p} onboarding is a maze, took me an hour to invite my team.",
                      "The docs are outdated, half the screenshots are from the old UI.",
                      "Import from spreadsheet failed with no error message.",
                      "Trial expired before I even figured out {p}."),
        "praise": ("{p} onboarding was super smooth, up and running in 10 minutes.",
                   "The {p} docs are genuinely helpful.",
                   "Shoutout to {p} support for the onboarding call."),
        "question": ("Is there a getting started guide for {p}?",
                     "How do I import projects from Trello into {p}?",
                     "Does {p} offer onboarding for teams of {n}+?"),
        "request": ("Please add video tutorials to the {p} docs.",
                    "Would love a sample project when you sign up.",
                    "Feature request: import from Asana."),
    },
}

TOPIC_HASHTAGS = {
    "billing": ("#invoicing", "#pricing"), "login": ("#SSO", "#security"),
    "mobile": ("#iOS", "#android"), "api": ("#API", "#webhooks"),
    "performance": ("#outage", "#downtime"), "export": ("#reporting", "#CSV"),
    "notifications": ("#notifications",), "ui": ("#darkmode", "#UX"),
    "onboarding": ("#onboarding", "#docs"),
}
GENERIC_HASHTAGS = ("#Nimbus", "#nimbus", "#SaaS", "#smallbusiness", "#freelance",
                    "#productivity", "#projectmanagement", "#startup")

TOPIC_URLS = {
    "billing": "https://help.nimbus.example/billing/invoices",
    "login": "https://help.nimbus.example/security/sso",
    "mobile": "https://nimbus.example/mobile",
    "api": "https://developers.nimbus.example/webhooks",
    "performance": "https://status.nimbus.example/incidents/{code}",
    "export": "https://help.nimbus.example/reports/export",
    "notifications": "https://help.nimbus.example/notifications",
    "ui": "https://pics.example.net/{code}.png",
    "onboarding": "https://docs.nimbus.example/getting-started",
}

OPENERS = {
    "complaint": ("ugh", "seriously", "PSA:", "rant:", "welp,", "not gonna lie,"),
    "praise": ("ok", "honestly", "TIL", "big fan:", "wow"),
    "question": ("quick q:", "help:", "honest question:", "hey all,"),
    "request": ("dear {p} team,", "hey {p},", "idea:", "wishlist:"),
}
EMOJI = {
    "complaint": ("😡", "😤", "💀", "🙄", "😩", "👎"),
    "praise": ("🎉", "👍", "🔥", "😍", "🙌", "❤️"),
    "question": ("🤔", "🙏", "👀"),
    "request": ("🙏", "✨", "💡", "👍"),
}
EMOTICONS = {
    "complaint": (":(", ":/", "-_-"),
    "praise": (":)", ":D"),
    "question": (":/", ":)"),
    "request": (":)",),
}

# {m} = a customer mention (name, alias, @handle, possibly lower-cased or misspelled).
MENTION_TEMPLATES = (
    "cc {m}", "{m} is seeing the same thing.", "Asked {m} about it and they said the same.",
    "Heard {m} moved to Nimbus last month.", "Shoutout to {m} for the tip.", "thanks {m}!",
    "even {m} has this problem lol", "via {m}", "{m} recommended it to us.",
)
COMPANY_MENTION_TEMPLATES = MENTION_TEMPLATES + (
    "Our whole team at {m} uses it daily.", "{m} folks, are you affected too?",
    "Same issue over at {m}.", "Our contact at {m} says they're switching too.",
)
SELF_MENTION_TEMPLATES = (
    "We at {m} rely on this every day.", "Speaking for {m} here.",
    "Half of {m} is blocked right now.", "Rolling this out across {m} next week.",
)

# Why: ordinary-word uses of customer names, so a matcher cannot just grep for "target".
DISTRACTORS = (
    "Just ate an apple while waiting for the {p} export to finish.",
    "Hit my revenue target for Q3 thanks to faster invoicing in {p}.",
    "Is orange the new accent color in the {p} redesign?",
    "Ordered a new laptop from amazon, hopefully {p} runs faster on it.",
    "Found a shell script to bulk import tasks into {p}.",
    "The delta between our invoices and payments is finally zero with {p}.",
    "Mercury is in retrograde, that explains the {p} outage 💀",
    "Moving to Paris next month, does {p} handle euro invoicing?",
    "Every monday {p} sends me a useless digest.",
    "Spent my sunday cleaning up {p} projects.",
    "Gonna bolt a Zapier flow onto {p} tonight.",
    "Reached the summit of my inbox, now back to {p} invoices.",
    "My bill from {p} is the only one I don't dread.",
    "Kept chasing a bug in {p} exports all afternoon.",
)

REPLY_SNIPPETS = (
    "Same here, started yesterday.", "+1 would love this too.",
    "Have you tried logging out and back in?", "Support fixed this for us in a day 👍",
    "This. So much this.", "We moved off {p} because of this.",
    "Not seeing it on our end fwiw.", "Workaround: clear the cache and reload.",
    "Any update on this???", "Can confirm, happening to us too 😩", "lol same here",
    "Thanks, that worked! 🙏", "Did you open a ticket?", "Which plan are you on?",
)

LONG_FILLERS = (
    "Context: we're a {n} person agency and {p} is basically our whole back office.",
    "We've been on {p} for about two years and mostly love it.",
    "The support ticket has been open since Tuesday with no real answer.",
    "I checked the status page and it says everything is operational, which is not my experience.",
    "Before anyone asks, yes I cleared the cache and tried a different browser.",
    "Our clients have started noticing, which is the part that really worries me.",
    "Anyone else dealing with this or found a workaround?",
    "Edit: typo.",
    "Edit 2: support replied, they're looking into it.",
    "Not trying to bash them, just want to know if it's only us.",
)

NON_ENGLISH = (
    "Nimbus no funciona desde esta mañana 😡", "¿Alguien sabe cómo exportar facturas en Nimbus?",
    "Me encanta el modo oscuro de Nimbus 😍", "La app móvil de Nimbus es muy lenta.",
    "Por favor, añadan pagos parciales a las facturas.",
    "Nimbus me cobró dos veces este mes, no estoy contento.",
    "Nimbus ist heute wieder extrem langsam.",
    "Kann mir jemand sagen, wie ich 2FA in Nimbus zurücksetze?",
    "Die neue Rechnungsfunktion von Nimbus ist super 👍", "Der Export nach CSV funktioniert nicht.",
    "Bitte einen Dunkelmodus für die Android-App!",
    "Seit dem Update stürzt die Nimbus App ständig ab.",
    "Nimbus est encore en panne ?? 😤", "J'adore la nouvelle interface de Nimbus.",
    "Comment exporter mes factures depuis Nimbus ?",
    "L'application mobile ne marche pas depuis la mise à jour.",
    "Merci à l'équipe Nimbus pour la réponse rapide 🙏", "Ce serait top d'avoir un export Excel.",
    "O Nimbus está muito lento hoje.", "Alguém sabe como integrar o Nimbus com o WhatsApp?",
    "Adorei o novo relatório de faturamento do Nimbus 🎉",
    "Não consigo fazer login com SSO desde ontem.", "Por favor adicionem modo escuro no app.",
    "O suporte do Nimbus resolveu meu problema em minutos.",
    # Why the spaces: keeps a naive whitespace word count >= 3 for Japanese lines too.
    "Nimbus のアプリが 起動しません 😢", "Nimbus の請求書機能、 とても便利です 👍",
    "ダークモードを 追加してほしい！ #Nimbus", "今日 Nimbus が重すぎる…",
    "Nimbus で レポートを エクスポートする方法を教えてください",
    "二段階認証の コードが 届かない 😩",
)

SPAM_TEXTS = (
    "👉 https://nimbus-free-upgrade.example/claim 👈",
    "🚀 CRYPTO GIVEAWAY 🚀 send 0.1 ETH get 1 ETH back!!! https://eth-double.example/go",
    "Nimbus lifetime deal 95% off 👉 https://saas-deals.test/nimbus",
    "free followers fast https://growfast.example/x",
)
SPAM_NAMES = ("Crypto Drops 💰", "Deal Hunter", "Giveaway Bot", "Growth Hacks 🚀", "Free Stuff")
