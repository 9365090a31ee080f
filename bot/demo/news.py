"""What the US embassy in Kazakhstan and the State Department publish in the replay.

The simulated feed server serves them at the two paths below, which the replay's two
sources point to instead of the real feeds.
"""

from __future__ import annotations

from bot.sim.feed_samples import EmbassyItem, StateItem

STATE_PATH = "/_res/rss/TAsTWs.xml"
EMBASSY_PATH = "/category/alert/feed/"

_ASSISTANCE = (
    "<p><strong>Assistance:</strong></p>"
    "<p>U.S. Embassy Nur-Sultan<br>+7 (7172) 70-21-00<br>ACSAstana@state.gov</p>"
)
EMBASSY_EARLIER = EmbassyItem(
    title="Message for U.S. Citizens – U.S. Mission Kazakhstan (December 20, 2021)",
    content=(
        "<p><strong>Location:</strong> Kazakhstan</p>"
        "<p><strong>Event:</strong> Holiday travel: check your passport and visa before "
        "travelling, and register your trip with the Embassy.</p>" + _ASSISTANCE
    ),
    link="https://kz.usembassy.gov/message-for-u-s-citizens-december-20-2021/",
    guid="https://kz.usembassy.gov/?p=40990",
    pub_date="Mon, 20 Dec 2021 05:00:00 +0000",
)
EMBASSY_PROTESTS = EmbassyItem(
    title="Demonstration Alert – U.S. Mission Kazakhstan (January 2, 2022)",
    content=(
        "<p><strong>Location:</strong> Zhanaozen and Aktau, Mangystau Region</p>"
        "<p><strong>Event:</strong> Large demonstrations against a rise in the price of "
        "liquefied gas began in Zhanaozen on January 2 and have spread to Aktau. Further "
        "demonstrations are possible in other cities, including Almaty and Nur-Sultan.</p>"
        "<p><strong>Actions to Take:</strong></p>"
        "<ul><li>Avoid demonstrations and large crowds.</li>"
        "<li>Monitor local media for updates.</li></ul>" + _ASSISTANCE
    ),
    link="https://kz.usembassy.gov/demonstration-alert-january-2-2022/",
    guid="https://kz.usembassy.gov/?p=41201",
    pub_date="Sun, 02 Jan 2022 13:10:00 +0000",
)
EMBASSY_EMERGENCY = EmbassyItem(
    title="Security Alert – U.S. Mission Kazakhstan (January 5, 2022)",
    content=(
        "<p><strong>Location:</strong> Almaty and Mangystau Region</p>"
        "<p><strong>Event:</strong> The Government of Kazakhstan has declared a state of "
        "emergency in Almaty and Mangystau Region until January 19. A curfew is in force "
        "in Almaty from 23:00 to 07:00 until January 19. Protesters have entered government "
        "buildings in Almaty; mobile and internet services are disrupted.</p>"
        "<p><strong>Actions to Take:</strong></p>"
        "<ul><li>Comply with the curfew.</li><li>Shelter in place if it is safe to do so."
        "</li><li>Keep your phone charged.</li></ul>" + _ASSISTANCE
    ),
    link="https://kz.usembassy.gov/security-alert-january-5-2022/",
    guid="https://kz.usembassy.gov/?p=41234",
    pub_date="Wed, 05 Jan 2022 04:40:00 +0000",
)
STATE_KYRGYZSTAN = StateItem(
    title="Kyrgyzstan - Level 3: Reconsider Travel",
    description="<p>Reconsider travel to Kyrgyzstan due to COVID-19.</p>",
    tag="KG",
    slug="kyrgyzstan",
    pub_date="Mon, 04 Oct 2021",
)
STATE_KAZAKHSTAN_3 = StateItem(
    title="Kazakhstan - Level 3: Reconsider Travel",
    description="<p>Reconsider travel to Kazakhstan due to COVID-19.</p>",
    tag="KZ",
    slug="kazakhstan",
    pub_date="Mon, 04 Oct 2021",
)
STATE_KAZAKHSTAN_4 = StateItem(
    title="Kazakhstan - Level 4: Do Not Travel",
    description=(
        "<p>Do not travel to Kazakhstan due to civil unrest and COVID-19.</p>"
        "<p>On January 6, 2022, the Department of State authorized the voluntary departure "
        "of non-emergency U.S. government employees and family members from U.S. Consulate "
        "General Almaty.</p>"
    ),
    tag="KZ",
    slug="kazakhstan",
    pub_date="Thu, 06 Jan 2022",
)
