"""When a customer's name is also an ordinary word or place, and what context rescues it."""

from __future__ import annotations

# Brand-like names that are just as often fruit, shops, people, places or verbs.
AMBIGUOUS_NAMES = frozenset("""
apple target jordan amazon shell orange gap dove subway delta oracle puma jaguar mercury visa
chase sprint square slack notion zoom stripe box signal discord monday corona mars galaxy
sage pilot compass anchor summit pioneer frontier harbor harbour beacon atlas phoenix eagle
falcon fox lincoln dodge ford georgia paris london berlin sydney boston phoenix austin denver
victoria chelsea florence madison savannah dakota virginia carolina jersey york kent hudson
nike coach guess express sonic ruby python java swift rust go meta alphabet bird lime uber
bolt wise revolut monzo chime brex ramp mint honey plum peach cherry berry blackberry kiwi
mango lemon lyft tide dawn gain joy ivory ace crest glad surf all bounce sun star rocket
crown key keystone quest prime spark spring summer autumn winter river lake ocean island
""".split())

# Words after a name that make it a company ("Apple Inc", "Target Corp").
COMPANY_SUFFIXES = frozenset(
    "inc inc. corp corp. corporation ltd ltd. llc plc gmbh co co. group company ag sa "
    "bv nv limited holdings labs technologies software systems".split())

# Words near a name that make a customer (rather than fruit or a city) the likely reading.
BUSINESS_CONTEXT = frozenset("""
support customer customers service services app apps account accounts order orders refund
refunds subscription subscriptions store stores team staff product products update updates
release pricing price invoice invoices billing shipping delivery deliveries ceo cto founder
shares stock earnings contract vendor platform api integration integrations login outage
dashboard plan plans tier license licence rep reps manager management headquarters hq
employee employees hiring acquisition partner partners partnership ticket tickets helpdesk
sla renewal renew upgrade downgrade onboarding checkout cart warehouse logistics freight
software saas crm feature features bug bugs
""".split())
