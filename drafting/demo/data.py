"""The demo conference, modelled on the OSCE-supported conference on migration management held
in Astana on 24-25 June 2009 (see the press release in the project's seed). People are
fictional; institutions and topics are those of the event."""
from __future__ import annotations

from datetime import UTC, date, datetime

DEMO_PASSWORD = "plenary-demo"  # noqa: S105 - demo accounts only, documented in the README

CONFERENCE = {
    "title": "Efficient migration management in the CIS region",
    "venue": "Astana, Kazakhstan",
    "starts_on": date(2009, 6, 24),
    "ends_on": date(2009, 6, 25),
    # How the secretariat issues its outcome document (DOMAIN.md section 2): a symbol of the
    # conference's series; in English, its authentic language; for general distribution.
    "document_symbol": "CONF.MIGR/1/09",
    # As the press release credits them: the OSCE Centre in Astana "in co-operation with"
    # the others (the document prints "Organised by … in co-operation with …, … and …").
    "organisers": "\n".join([
        "the OSCE Centre in Astana",
        "the Ministry of Labour and Social Protection of the Republic of Kazakhstan",
        "the International Organization for Migration (IOM)",
        "the International Labour Organization (ILO)",
    ]),
    "description": (
        "Some 100 parliamentarians, government officials, NGO representatives, international "
        "experts and representatives of international organisations from Central Asia and "
        "Russia meet to promote efficient migration policies through dialogue and the exchange "
        "of good practices.\n\n"
        "The conference aims to develop **practical recommendations** for the effective "
        "management of migration processes and to increase co-operation between the countries "
        "of the region."
    ),
    "preamble": (
        "The participants in the Conference on efficient migration management in the CIS "
        "region, meeting in Astana on 24 and 25 June 2009,\n\n"
        "*Aware* of the consequences of the world financial crisis for migrant workers and "
        "their families, and of the importance of coherent migration policies for development "
        "and security in the region,\n\n"
        "Adopt the following practical recommendations."
    ),
}

# (email, name, affiliation, country, category, is_secretariat)
PARTICIPANTS = [
    ("secretariat@plenary.example", "Aliya Serikbayeva", "OSCE Centre in Astana", "OSCE",
     "international_organisation", True),
    ("chair@plenary.example", "Marat Dzhaksybekov", "Mazhilis of the Parliament of Kazakhstan",
     "Kazakhstan", "parliamentarian", False),
    ("member@plenary.example", "Elena Sokolova", "Federal Migration Service", "Russian Federation",
     "government_official", False),
    ("member2@plenary.example", "Timur Rakhimov", "Ministry of Labour and Social Protection",
     "Kazakhstan", "government_official", False),
    ("observer@plenary.example", "Dilnoza Yusupova", "Migrant Rights Centre (NGO)", "Uzbekistan",
     "ngo_representative", False),
    ("expert@plenary.example", "Anna Lindqvist", "Labour migration researcher", "Sweden",
     "international_expert", False),
    ("iom@plenary.example", "Jean-Pierre Moreau", "International Organization for Migration",
     "IOM", "international_organisation", False),
    ("ilo@plenary.example", "Natalia Ivanova", "International Labour Organization", "ILO",
     "international_organisation", False),
    ("kg.mp@plenary.example", "Bakyt Osmonov", "Jogorku Kenesh of the Kyrgyz Republic",
     "Kyrgyzstan", "parliamentarian", False),
    ("tj.official@plenary.example", "Farrukh Nazarov", "Ministry of Labour and Social Protection",
     "Tajikistan", "government_official", False),
    ("ngo.kz@plenary.example", "Saule Akhmetova", "Kazakhstan International Bureau for Human "
     "Rights", "Kazakhstan", "ngo_representative", False),
    ("gender@plenary.example", "Gulnara Bekova", "Gender policy expert", "Kyrgyzstan",
     "international_expert", False),
    ("ru.mp@plenary.example", "Sergei Volkov", "State Duma of the Russian Federation",
     "Russian Federation", "parliamentarian", False),
    ("law@plenary.example", "Irina Kim", "Institute of Legislation", "Kazakhstan",
     "international_expert", False),
    ("tj.ngo@plenary.example", "Zarina Karimova", "Women's migrant support network", "Tajikistan",
     "ngo_representative", False),
]

# The delegations, where the demo's participants speak for their country's government or
# parliament, or for their organisation: (name, kind, head, designated voter, [members]).
# NGO representatives and independent experts speak for themselves: they sit in none. The
# conference votes by person (a multi-stakeholder meeting); the secretariat can make the
# delegation the voting unit on the conference's Delegations page.
DELEGATIONS = [
    ("Kazakhstan", "state", "member2@plenary.example", None,
     ["chair@plenary.example", "member2@plenary.example"]),
    ("Kyrgyzstan", "state", "kg.mp@plenary.example", None, ["kg.mp@plenary.example"]),
    ("Russian Federation", "state", "ru.mp@plenary.example", "member@plenary.example",
     ["ru.mp@plenary.example", "member@plenary.example"]),
    ("Tajikistan", "state", "tj.official@plenary.example", None, ["tj.official@plenary.example"]),
    ("International Labour Organization", "organisation", "ilo@plenary.example", None,
     ["ilo@plenary.example"]),
    ("International Organization for Migration", "organisation", "iom@plenary.example", None,
     ["iom@plenary.example"]),
]

# (name, mandate, [(email, role)])
GROUPS = [
    (
        "Labour migration and the financial crisis",
        "Review the consequences of the world financial crisis for labour migrants in the "
        "region and recommend **practical measures** to protect their rights, their jobs and "
        "their remittances, and to strengthen inter-state partnership in the social and "
        "labour spheres.",
        [("chair@plenary.example", "chair"), ("member@plenary.example", "member"),
         ("member2@plenary.example", "member"), ("observer@plenary.example", "observer"),
         ("ilo@plenary.example", "member"), ("kg.mp@plenary.example", "member")],
    ),
    (
        "Ethnic migration",
        "Examine the return and integration of ethnic migrants (*oralmans*) and recommend "
        "procedures that are fair, predictable and consistent with international standards.",
        [("ru.mp@plenary.example", "chair"), ("tj.official@plenary.example", "member"),
         ("iom@plenary.example", "member"), ("ngo.kz@plenary.example", "observer")],
    ),
    (
        "Gender-sensitive labour migration policies",
        "Using the *OSCE Guide on Gender-sensitive Labour Migration Policies* as a basis, "
        "recommend how national policies can address the specific needs and risks of women "
        "migrant workers.",
        [("gender@plenary.example", "chair"), ("expert@plenary.example", "member"),
         ("tj.official@plenary.example", "member"), ("tj.ngo@plenary.example", "observer")],
    ),
    (
        "International legal standards and national legislation",
        "Review the gaps between national legislation and international legal standards on "
        "migration, including the draft new migration law of Kazakhstan, and recommend how "
        "legislation can be adjusted to meet them.",
        [("law@plenary.example", "chair"), ("member2@plenary.example", "member"),
         ("iom@plenary.example", "member"), ("observer@plenary.example", "observer")],
    ),
]

# group name -> [(title, [(kind, text)])]
RECOMMENDATIONS = {
    "Labour migration and the financial crisis": [
        (
            "Protecting migrant workers during the financial crisis",
            [
                ("preambular", "*Recognising* that the world financial crisis has reduced "
                 "demand for labour in the construction, industrial and service sectors in which "
                 "many migrant workers of the region are employed,"),
                ("preambular", "*Concerned* that migrant workers who lose their jobs are "
                 "exposed to irregular status, exploitation and the loss of social protection,"),
                ("operative", "Call on the governments of countries of destination to allow "
                 "migrant workers whose employment has ended to remain lawfully for a reasonable "
                 "period in order to seek new employment;"),
                ("operative", "Recommend that countries of origin and destination conclude "
                 "bilateral agreements on the portability of pension and social-security rights "
                 "of migrant workers;"),
                ("operative", "Encourage the reduction of the cost of remittances through "
                 "transparent and competitive money-transfer services."),
            ],
        ),
        (
            "Regional co-operation on labour market information",
            [
                ("preambular", "*Noting* the need for reliable data on labour demand and supply "
                 "across the region,"),
                ("operative", "Propose a regional exchange of labour-market information between "
                 "the ministries of labour of the participating States, with the support of the "
                 "ILO and IOM."),
            ],
        ),
        (
            "Remittances of migrant workers",
            [
                ("preambular", "*Recognising* that remittances are the main source of income of "
                 "many households in the countries of origin of the region,"),
                ("preambular", "*Concerned* that the world financial crisis has reduced "
                 "remittances while the cost of sending them remains high,"),
                ("operative", "Recommend that the countries of the region remove the obstacles "
                 "to sending remittances through formal channels and reduce their cost;"),
                ("operative", "Call on the banks and money-transfer services of the region to "
                 "inform migrant workers and their families of their fees in advance and in a "
                 "language they understand;"),
                ("operative", "Invite the IOM and the ILO to support the exchange of good "
                 "practices on the productive use of remittances."),
            ],
        ),
    ],
    "Gender-sensitive labour migration policies": [
        (
            "Gender-sensitive labour migration policies",
            [
                ("preambular", "*Taking into account* the OSCE Guide on Gender-sensitive Labour "
                 "Migration Policies,"),
                ("operative", "Recommend that national labour-migration policies be assessed "
                 "for their different effects on women and men before adoption;"),
                ("operative", "Call for information services in countries of origin that "
                 "inform women migrants of their rights, of lawful recruitment channels and of "
                 "where to seek help."),
            ],
        ),
    ],
}

# recommendation title -> its discussion: threads [(clause index in reading order, author,
# body, [(author, reply)])] and amendments [(clause index, proposer, kind, text, rationale,
# [co-sponsors])]. Loaded with the recommendation, through the same rules as people's own.
DISCUSSIONS = {
    "Protecting migrant workers during the financial crisis": {
        "threads": [
            (2, "observer@plenary.example",
             "How long is a *reasonable period*? Migrants we assist lose their permits 15 days "
             "after their contract ends.",
             [("chair@plenary.example", "A fair question. @**Elena Sokolova**, could the "
               "Federal Migration Service suggest a period the group could write in?")]),
        ],
        "amendments": [
            (3, "member@plenary.example", "replace",
             "Recommend that countries of origin and destination conclude bilateral and "
             "multilateral agreements on the portability of pension and social-security rights "
             "of migrant workers and members of their families;",
             "Families depend on these rights as much as workers do, and several States of the "
             "region prefer a multilateral framework.",
             ["member2@plenary.example"]),
        ],
    },
}

# recommendation title -> votes the chair put: (clause index in reading order, rule,
# [(voter, "yes" | "no" | "abstain")], closed?). A closed one leaves an adopted clause and its
# record; an open one waits for the visitor's ballot.
#: Questions put on a recommendation's clauses under the demo's rules of procedure (the
#: practice's: consensus first): (clause index, method, what members do — "present" when
#: the question reached them, or an objection's reason —, whether the chair declares it).
#: A clause index of None puts the recommendation as a whole.
VOTES: dict[str, list[tuple[int | None, str, list[tuple[str, str]], bool]]] = {
    "Regional co-operation on labour market information": [
        (0, "consensus", [("member@plenary.example", "present"), ("member2@plenary.example", "present"),
                          ("ilo@plenary.example", "present")], True),
        (1, "consensus", [("member2@plenary.example", "The exchange of data needs safeguards first.")],
         False),
    ],
    # The first group's recommendation adopted on the second day: every paragraph, then the
    # whole, by consensus, so that the draft outcome document has a text to show.
    "Remittances of migrant workers": [
        *[(index, "consensus", [(member, "present") for member in (
            "member@plenary.example", "member2@plenary.example", "ilo@plenary.example",
            "kg.mp@plenary.example")], True) for index in range(5)],
        (None, "consensus", [(member, "present") for member in (
            "member@plenary.example", "member2@plenary.example", "ilo@plenary.example",
            "kg.mp@plenary.example")], True),
    ],
}

#: When things happen, in UTC (Astana is UTC+6): the demo is loaded as if on the conference's
#: days, so its records, comments and amendments are dated within it. Registration and
#: drafting from the morning of the first day; the questions on each recommendation from the
#: time given.
CONFERENCE_OPENS = datetime(2009, 6, 24, 4, 0, tzinfo=UTC)
QUESTIONS_PUT_AT = {
    "Regional co-operation on labour market information": datetime(2009, 6, 24, 10, 30, tzinfo=UTC),
    "Remittances of migrant workers": datetime(2009, 6, 25, 5, 0, tzinfo=UTC),
}
